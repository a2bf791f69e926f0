"""A packet as a Da Vinci CDex ``$submit-attachment`` Parameters resource (CDex STU 2.1, the operation's
input: TrackingId, AttachTo, PayerId, OrganizationId, ProviderId, MemberId, ServiceDate and an
Attachment whose Content is a DocumentReference holding the packet PDF; see
https://hl7.org/fhir/us/davinci-cdex/OperationDefinition-submit-attachment.html and its Parameters
examples). With ``docgen packet --fhir`` the Bundle of the records is a second Attachment.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..fhir import codes as C
from ..fhir.ids import fhir_id

#: CDex AttachTo: the purposes a payer receives attachments for.
ATTACH_TO = {"claim": "claim", "authorization": "preauthorization"}
#: LOINC 11503-0 Medical records (the code CDex's examples give a set of records).
MEDICAL_RECORDS = "11503-0"


def submit_attachment(packet, pdf: bytes) -> dict[str, Any]:
    """The Parameters resource for ``packet`` (a :class:`docgen.packet.Packet`) and its PDF as written."""
    from ..errors import PacketError  # noqa: PLC0415

    m = packet.manifest
    attach_to = ATTACH_TO.get(m["purpose"])
    if attach_to is None:
        raise PacketError(f"--cdex: a CDex attachment goes with a claim or an authorization, not '{m['purpose']}'")
    payer = packet.payer
    first = packet.records[0] if packet.records else {}
    agency_npi = (first.get("agency") or {}).get("npi")
    doc = {"resourceType": "DocumentReference", "id": fhir_id(m["packet_id"]), "status": "current",
           "type": {"coding": [{"system": C.LOINC, "code": MEDICAL_RECORDS, "display": "Medical records"}]},
           "category": [{"coding": [{"system": C.DOCREF_CATEGORY, "code": "clinical-note"}]}],
           "subject": {"identifier": {"system": f"{C.DOCGEN}:member-id", "value": payer.member_id or m["client"]}},
           "content": [{"attachment": {
               "contentType": "application/pdf", "data": base64.b64encode(pdf).decode("ascii"), "size": len(pdf),
               "hash": base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode("ascii"),
               "title": f"Disclosure packet {m['packet_id']}"}}]}
    dates = [d["date"] for d in m["documents"]]
    parameters: list[dict[str, Any]] = [
        {"name": "TrackingId", "valueIdentifier": {"system": f"{C.DOCGEN}:packet-id", "value": m["packet_id"]}},
        {"name": "AttachTo", "valueCode": attach_to},
        {"name": "PayerId", "valueIdentifier": {"system": f"{C.DOCGEN}:payer-name", "value": payer.name}},
    ]
    if agency_npi:
        parameters.append({"name": "OrganizationId", "valueIdentifier": {"system": C.NPI, "value": agency_npi}})
    provider = packet.provider_npi or agency_npi
    if provider:
        parameters.append({"name": "ProviderId", "valueIdentifier": {"system": C.NPI, "value": provider}})
    parameters.append({"name": "MemberId", "valueIdentifier": {"system": f"{C.DOCGEN}:member-id",
                                                               "value": payer.member_id or m["client"]}})
    if dates:
        parameters.append({"name": "ServiceDate", "valueDateTime": max(dates)})
    parameters.append({"name": "Attachment", "part": [
        {"name": "Code", "valueCodeableConcept": doc["type"]}, {"name": "Content", "resource": doc}]})
    if packet.bundle is not None:
        parameters.append({"name": "Attachment", "part": [
            {"name": "Code", "valueCodeableConcept": doc["type"]}, {"name": "Content", "resource": packet.bundle}]})
    return {"resourceType": "Parameters", "id": fhir_id(m["packet_id"], "cdex"), "parameter": parameters}
