"""Error codes of the citizen domain."""

from api.core.errors import AppError, Conflict


class IdentityConflict(Conflict):
    code = "identity_conflict"
    message = (
        "该手机号或证件已属于另一个已有办件数据的账号，系统不会自动合并。"
        "请使用原账号登录，或携带身份证件到政务服务大厅申请账号合并。"
    )


class RealNameMismatch(AppError):
    status, code, message = 422, "real_name_mismatch", "姓名与身份证号未通过户籍信息核验"


class AssuranceTooLow(AppError):
    status, code, message = 403, "assurance_level_too_low", "请先完成实名认证"


class MalformedCsv(AppError):
    """A registry file that cannot be read as CSV of its dataset (encoding, quotes, header): nothing of it is
    imported. `line` is the file line where the broken record starts."""

    status, code, message = 422, "malformed_csv", "CSV 文件格式有误，未导入任何行"

    def __init__(self, line: int, reason: str):
        self.line = line
        super().__init__(f"第 {line} 行：{reason}；未导入任何行", fields={"file": f"第 {line} 行：{reason}"})
