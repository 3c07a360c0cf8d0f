"""The policy domain's own error codes."""

from api.core.errors import Conflict, Forbidden


class CampaignActive(Conflict):
    code, message = "campaign_active", "该政策已有进行中的推送批次，请等待完成或先取消"


class PolicyArchived(Conflict):
    code, message = "policy_archived", "政策已归档，不能再发布"


class InvalidCampaignMove(Conflict):
    code, message = "invalid_transition", "推送批次当前状态不允许该操作"


class RealNameRequired(Forbidden):
    code, message = "assurance_too_low", "政策计算器须先完成实名认证（二级及以上）"
