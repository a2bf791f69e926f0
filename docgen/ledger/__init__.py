"""Ledger: the append-only audit trail of generation events and the lock ledger of final records,
in one SQLite file (:mod:`.trail`), the hash chain over both that makes tampering evident
(:mod:`.chain`), and what a lock holds (:mod:`.locks`)."""
from .chain import ChainBreak, ChainHead, ChainReport
from .locks import LOCK_SOURCE, Lock, Locks, Signer, changed, lock_of, locked_finding, locked_message
from .trail import AuditTrail, Ledger, query, query_locks, trail_head, verify_trail

__all__ = ["LOCK_SOURCE", "Lock", "Locks", "Signer", "changed", "lock_of", "locked_finding", "locked_message",
           "AuditTrail", "Ledger", "query", "query_locks", "ChainBreak", "ChainHead", "ChainReport", "trail_head",
           "verify_trail"]
