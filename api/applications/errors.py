"""The application domain's own error codes."""

from api.core.errors import AppError, Conflict, ValidationFailed


class FormInvalid(ValidationFailed):
    code, message = "form_invalid", "表单填写有误"


class MaterialsInvalid(ValidationFailed):
    code, message = "materials_invalid", "材料不符合要求"


class MaterialsOwed(Conflict):
    code, message = "materials_owed", "尚有容缺后补的材料未补齐，不能审批通过"


class NotCrossProvince(ValidationFailed):
    code, message = "not_cross_province", "该事项不支持跨省通办，请向户籍或居住地所在省份申请"


class LicenseNotFound(ValidationFailed):
    code, message = "license_not_found", "电子证照不存在、已失效或类型不符"


class AlreadyRated(Conflict):
    code, message = "already_rated", "该办件已评价"


class NotRatable(Conflict):
    code, message = "not_ratable", "办结后才能评价"


class TrackingRequired(AppError):
    status, code, message = 422, "tracking_no_required", "寄出须填写快递单号和快递公司"


class CarrierRequired(AppError):
    status, code, message = 422, "carrier_required", "寄出须填写快递公司"


class IdentityMismatch(ValidationFailed):
    code, message = "identity_mismatch", "申请人身份信息须与实名认证信息一致"


class DraftTooLarge(AppError):
    status, code, message = 413, "draft_too_large", "草稿内容不能超过 64 KiB"
