"""Typed models; importing this package registers every table on `Base.metadata`."""

from app.models.accounts import (
    ApiToken,
    LoginAttempt,
    LoginSession,
    Organization,
    OrgKind,
    Role,
    User,
)
from app.models.assessments import Assessment, Claim
from app.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from app.models.cases import (
    FINISHED_STATES,
    MEDIATED_STATES,
    PAYABLE_STATES,
    Case,
    CaseInsurer,
    CaseMilestone,
    CaseStatus,
    CaseTask,
    LiabilityDecision,
    Party,
    Policy,
    PolicyKind,
    Report,
    Vehicle,
)
from app.models.deadlines import Deadline, DeadlineStatus
from app.models.documents import Document
from app.models.jobs import Job, JobStatus
from app.models.negotiation import (
    Agreement,
    AgreementStatus,
    InsurerClaim,
    MediationSession,
    Offer,
    OfferSide,
    OfferStatus,
    Payment,
)
from app.models.notifications import Notification
from app.models.referrals import Referral
from app.models.standards import StandardSetRecord
from app.models.tribunal import Confirmation, ConfirmationStatus, RulingSequence

__all__ = [
    "Referral",
    "RulingSequence",
    "ConfirmationStatus",
    "Confirmation",
    "Payment",
    "OfferStatus",
    "OfferSide",
    "Offer",
    "Notification",
    "MediationSession",
    "InsurerClaim",
    "AgreementStatus",
    "Agreement",
    "ApiToken",
    "Assessment",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "Case",
    "CaseInsurer",
    "CaseMilestone",
    "CaseTask",
    "CaseStatus",
    "FINISHED_STATES",
    "MEDIATED_STATES",
    "PAYABLE_STATES",
    "Claim",
    "Deadline",
    "DeadlineStatus",
    "Document",
    "Job",
    "JobStatus",
    "LiabilityDecision",
    "LoginAttempt",
    "LoginSession",
    "OrgKind",
    "Organization",
    "Party",
    "Policy",
    "PolicyKind",
    "Report",
    "Role",
    "StandardSetRecord",
    "User",
    "Vehicle",
]
