"""The health declaration a citizen makes when applying, and the reasons it yields."""
from __future__ import annotations

from enum import Enum

from pydantic import ConfigDict, Field, field_validator

from chalicelib.domain import divisions
from chalicelib.domain.colors import Color, Reason
from chalicelib.domain.medical import FEVER_CELSIUS as FEVER_CELSIUS  # a declared fever is any fever
from chalicelib.models import Model

DAY = 86400
DECLARATION_WINDOW = 14 * DAY


class Symptom(str, Enum):
    FEVER = "fever"
    COUGH = "cough"
    FATIGUE = "fatigue"
    SORE_THROAT = "sore_throat"
    SHORTNESS_OF_BREATH = "shortness_of_breath"
    DIARRHOEA = "diarrhoea"
    LOSS_OF_TASTE_OR_SMELL = "loss_of_taste_or_smell"


class Declaration(Model):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    temperature: float = Field(ge=34.0, le=43.0, description="Body temperature in °C")
    symptoms: list[Symptom] = Field(default_factory=list, max_length=7)
    contact_with_cases: bool = Field(description="Contact with a confirmed or suspected case in the last 14 days")
    stayed_in_high_risk_area: bool = Field(description="Stayed in a high-risk area in the last 14 days")
    current_area: str = Field(description="GB/T 2260 code of the current city or county", min_length=6, max_length=6)

    @field_validator("symptoms", mode="before")
    @classmethod
    def _symptoms_as_enum(cls, value: object) -> object:
        # strict mode would refuse the JSON strings that name the enum members
        if isinstance(value, list):
            return [Symptom(v) if isinstance(v, str) and v in Symptom._value2member_map_ else v for v in value]
        return value

    @field_validator("symptoms")
    @classmethod
    def _unique(cls, value: list[Symptom]) -> list[Symptom]:
        if len(set(value)) != len(value):
            raise ValueError("symptoms must not repeat")
        return value

    @field_validator("current_area")
    @classmethod
    def _known_area(cls, value: str) -> str:
        if not divisions.is_division(value):
            raise ValueError("not a GB/T 2260 administrative division code")
        return value


def declaration_reasons(declaration: Declaration, declared_at: int) -> list[Reason]:
    """The rule table in docs/colors.md, for the declaration source."""
    until = declared_at + DECLARATION_WINDOW
    fever = declaration.temperature >= FEVER_CELSIUS or Symptom.FEVER in declaration.symptoms
    other_symptoms = [s for s in declaration.symptoms if s is not Symptom.FEVER]
    reasons: list[Reason] = []

    def add(code: str, color: Color, zh: str, en: str) -> None:
        reasons.append(Reason("declaration", code, color, zh, en, declared_at, until, declaration.current_area))

    if declaration.contact_with_cases:
        add("declared_contact", Color.RED, "申报与确诊或疑似病例有接触史",
            "Declared contact with a confirmed or suspected case")
    if declaration.stayed_in_high_risk_area and (fever or other_symptoms):
        add("declared_high_risk_stay_with_symptoms", Color.RED, "申报14天内到过高风险地区且有发热或症状",
            "Declared a stay in a high-risk area within 14 days with fever or symptoms")
    elif declaration.stayed_in_high_risk_area:
        add("declared_high_risk_stay", Color.YELLOW, "申报14天内到过高风险地区",
            "Declared a stay in a high-risk area within 14 days")
    if fever:
        add("declared_fever", Color.YELLOW, "申报发热（体温≥37.3℃）", "Declared fever (37.3 °C or above)")
    if other_symptoms:
        add("declared_symptoms", Color.YELLOW, "申报有咳嗽、乏力等症状", "Declared symptoms such as cough or fatigue")
    return reasons
