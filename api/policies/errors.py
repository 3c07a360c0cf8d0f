"""The policy domain's own error codes."""

from api.core.errors import Conflict, Forbidden, NotFound


class CampaignActive(Conflict):
    code, message = "campaign_active", "该政策已有进行中的推送批次，请等待完成或先取消"


class PolicyArchived(Conflict):
    code, message = "policy_archived", "政策已归档，不能再发布"


class InvalidCampaignMove(Conflict):
    code, message = "invalid_transition", "推送批次当前状态不允许该操作"


class RealNameRequired(Forbidden):
    code, message = "assurance_too_low", "政策计算器须先完成实名认证（二级及以上）"


class PolicyNotEditable(Conflict):
    code, message = "policy_archived", "政策已归档，不能再修改"


class NewerDraftExists(Conflict):
    code = "draft_exists"

    def __init__(self, draft_id: str):
        super().__init__(f"该政策已有待发布的新版本草稿 {draft_id}，"
                         f"请修改该草稿（PATCH /api/v1/admin/policies/{draft_id}）")


class AwaitingApproval(Conflict):
    code, message = "campaign_active", "该政策的发布正在等待审批，不能修改；可先取消该推送批次"


class NotAwaitingApproval(Conflict):
    code, message = "invalid_transition", "推送批次不在待审批状态"


class MakerChecker(Forbidden):
    code, message = "maker_checker", "须由另一名管理员批准"


class PersonNotFound(NotFound):
    code, message = "person_not_found", "人口登记中没有此证件号"
