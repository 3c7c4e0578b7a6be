"""The medications Caseload records (docs/clinical-reference.md, section 3).

Facts about the drug, never about dosing.
"""

from __future__ import annotations

from dataclasses import dataclass

from caseload.models import Medication


@dataclass(frozen=True)
class MedicationFacts:
    name: str
    role: str
    causes_physical_dependence: bool
    rxnorm_ingredient: str | None
    rxnorm_verified: bool


CATALOG: dict[str, MedicationFacts] = {
    Medication.METHADONE: MedicationFacts("methadone", "opioid agonist (MOUD)", True, "6813", True),
    Medication.BUPRENORPHINE: MedicationFacts(
        "buprenorphine", "partial opioid agonist (MOUD)", True, "1819", True
    ),
    # The clonidine code is unverified: shown, but flagged so no integration relies on it.
    Medication.CLONIDINE: MedicationFacts(
        "clonidine", "alpha-2 agonist, withdrawal symptom relief", False, "2599", False
    ),
    # No verified RxNorm ingredient code for lofexidine: left empty on purpose.
    Medication.LOFEXIDINE: MedicationFacts(
        "lofexidine hydrochloride",
        "alpha-2 agonist, withdrawal symptom relief",
        False,
        None,
        False,
    ),
}


def facts_for(medication: str) -> MedicationFacts:
    return CATALOG[medication]
