"""Code systems and codes docgen's FHIR R4 export and import use, with where each was checked.

LOINC codes were looked up in LOINC's own pages, not typed from memory:
- PHQ-9 panel 44249-1 "PHQ-9 quick depression assessment panel [Reported.PHQ]" and total 44261-6 "Patient
  Health Questionnaire 9 item (PHQ-9) total score [Reported]" (https://loinc.org/44261-6 lists 44249-1 as
  its panel; the US Core example Observation-PHQ9-panel-example-44249-1 uses both).
- The items of both instruments, in the form's order, from the PHQ-SADS panel https://loinc.org/69729-2
  (PHQ-9: 44250-9 ... 44260-8; GAD-7: 69725-0 ... 69736-7, total 70274-6 "Generalized anxiety disorder 7
  item (GAD-7) total score [Reported.PHQ]").
- GAD-7 panel 69737-5 (LOINC's GAD-7 panel code, as in the instrument's references).
- Answers 0-3: LOINC answer list LL358-3 (https://loinc.org/LL358-3): LA6568-5 Not at all, LA6569-3
  Several days, LA6570-1 More than half the days, LA6571-9 Nearly every day.
- Documents: 18776-5 plan of care note, 11506-3 progress note (issue #15).
US Core categories: CarePlan ``assess-plan`` (us-core CodeSystem careplan-category), Condition
``problem-list-item``, Observation ``survey``, DocumentReference ``clinical-note``.
"""
from __future__ import annotations

LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
NPI = "http://hl7.org/fhir/sid/us-npi"
#: docgen's own identifiers (client, record, clinician ids as the agency's system assigns them).
DOCGEN = "urn:docgen"
CLIENT_ID = f"{DOCGEN}:client-id"
RECORD_ID = f"{DOCGEN}:record-id"
CLINICIAN_ID = f"{DOCGEN}:clinician-id"
#: Extensions docgen defines (no FHIR element carries these).
EXT_BASE = "urn:docgen:fhir:StructureDefinition"
EXT_RESIDUAL = f"{EXT_BASE}:record-rest"  # the record's fields no FHIR element carries (see export.py)

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DOCREF_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_POLICY = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"
PAYER_TYPOLOGY = "https://nahdo.org/sopt"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
LANGUAGE = "urn:ietf:bcp:47"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
UCUM = "http://unitsofmeasure.org"

PHQ9_PANEL, PHQ9_TOTAL = "44249-1", "44261-6"
GAD7_PANEL, GAD7_TOTAL = "69737-5", "70274-6"
PHQ9_ITEMS = ("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8")
GAD7_ITEMS = ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7")
ANSWERS = (("LA6568-5", "Not at all"), ("LA6569-3", "Several days"), ("LA6570-1", "More than half the days"),
           ("LA6571-9", "Nearly every day"))
#: instrument -> (panel, total, items, display, Questionnaire canonical)
INSTRUMENTS = {
    "phq9": (PHQ9_PANEL, PHQ9_TOTAL, PHQ9_ITEMS, "PHQ-9", f"http://loinc.org/q/{PHQ9_PANEL}"),
    "gad7": (GAD7_PANEL, GAD7_TOTAL, GAD7_ITEMS, "GAD-7", f"http://loinc.org/q/{GAD7_PANEL}"),
}
PLAN_OF_CARE_NOTE, PROGRESS_NOTE = "18776-5", "11506-3"

#: docgen diagnosis status -> Condition.verificationStatus (the rest: unconfirmed, status kept in the record rest)
VERIFICATION = {"confirmed": "confirmed", "provisional": "provisional", "rule-out": "differential",
                "differential": "differential", "refuted": "refuted"}
#: payer type <-> Source of Payment Typology (PHDSC/NAHDO) top-level codes
PAYER_CODES = {"medicare": "1", "medicaid": "2", "commercial": "5", "self_pay": "81", "other": "9"}
#: signer role -> Provenance agent type
AGENT_TYPE = {"clinician": "author", "supervisor": "verifier", "psychiatrist": "attester", "client": "informant",
              "guardian": "informant", "other": "performer"}

__all__ = [name for name in dir() if name.isupper()]
