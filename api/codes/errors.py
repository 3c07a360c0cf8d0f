"""The code domain's own error codes."""

from api.core.errors import AppError, Conflict, Forbidden, Unauthorized


class CodeRejected(AppError):
    """A code that a scan refuses; the code names why (see REFUSALS)."""

    status, code, message = 422, "code_invalid", "码无效"


REFUSALS = {
    "code_invalid": (422, "码无效或已被篡改"),
    "code_expired": (422, "码已过期，请刷新后重新出示"),
    "code_key_unknown": (422, "签发该码的密钥未公布或已停用"),
    "code_key_retired": (422, "该码由已退役的密钥签发"),
    "code_key_not_yet_valid": (422, "该码的签发密钥尚未启用"),
    "code_revoked": (403, "该码已被冻结或吊销"),
    "code_already_used": (409, "该码已乘车一次，请刷新后重新出示"),
    "scene_not_held": (422, "持码人未开通该场景"),
    "scene_not_allowed": (403, "本终端未登记该场景"),
}


def refused(reason: str) -> CodeRejected:
    """The error a scan answers for this refusal reason."""
    status, message = REFUSALS[reason]
    return CodeRejected(message, code=reason, status=status)


class CodeFrozen(Forbidden):
    code, message = "code_frozen", "您已冻结本人的码，解冻后才能出示"


class CodeHolderRevoked(Forbidden):
    code, message = "code_revoked", "您的码已被管理部门停用，请联系政务服务热线"


class NotFrozen(Conflict):
    code, message = "code_not_frozen", "码未处于冻结状态"


class TerminalRefused(Unauthorized):
    code, message = "terminal_unauthorized", "终端未登记、凭据错误或已停用"
