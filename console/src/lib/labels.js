// Chinese labels for the API's codes, shared by every page.
export const ROLE_LABELS = {
  super_admin: '超级管理员', policy_admin: '政策管理员', reviewer: '审核人员（窗口）', auditor: '审计员',
}

export const roleLabel = (r) => ROLE_LABELS[r] || r
