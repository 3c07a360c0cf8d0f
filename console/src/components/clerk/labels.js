// Chinese labels for the codes the clerk's and super admin's pages show (the API answers codes).
export const CASE_STATUS = {
  submitted: '已提交', accepted: '已受理', supplement_requested: '待补正', supplemented: '已补正',
  approved: '已批准', denied: '不予批准', rejected: '不予受理', completed: '已办结', shipped: '已寄出',
  delivered: '已送达', withdrawn: '已撤回',
}
export const CASE_STATUS_TYPE = {
  submitted: 'primary', accepted: 'primary', supplement_requested: 'warning', supplemented: 'primary',
  approved: 'success', denied: 'danger', rejected: 'danger', completed: 'success', shipped: 'success',
  delivered: 'success', withdrawn: 'info',
}
export const SLA = { on_track: '正常', warning: '即将到期', overdue: '已超期', paused: '暂停计时' }
export const ACTIONS = {
  accept: '受理', reject: '不予受理', request_supplement: '要求补正', approve: '批准', deny: '不予批准',
  complete: '办结', ship: '寄出', deliver: '确认送达',
}
export const ACTION_TYPE = {
  accept: 'primary', reject: 'danger', request_supplement: 'warning', approve: 'success', deny: 'danger',
  complete: 'success', ship: 'primary', deliver: 'primary',
}
export const MATERIAL_WAY = { file: '已上传', license: '电子证照（免提交）', commitment: '告知承诺', deferred: '容缺后补' }
export const DELIVERY = { pickup: '窗口领取', express: '邮寄送达', electronic: '电子送达' }
export const ACTOR = { citizen: '申请人', agent: '代办人', staff: '工作人员', system: '系统' }
export const TIMELINE_ACTION = {
  submit: '提交申请', supplement: '提交补正', withdraw: '撤回申请', ...ACTIONS,
}
export const CERT_STATUS = {
  pending_review: '待审核', issued: '已出具', rejected: '未通过', revoked: '已撤销', expired: '已过期',
}
export const CERT_STATUS_TYPE = {
  pending_review: 'warning', issued: 'success', rejected: 'danger', revoked: 'info', expired: 'info',
}
export const CERT_ACTIONS = { approve: '通过并出具', reject: '不予出具', revoke: '撤销证明' }
export const IMPORT_STATUS = { queued: '排队中', running: '导入中', completed: '已完成', failed: '失败' }
export const IMPORT_STATUS_TYPE = { queued: 'info', running: 'primary', completed: 'success', failed: 'danger' }
export const DATASETS = {
  population: '人口信息', disability: '残疾人信息', social_insurance: '社会保险参保', health_card: '电子健康卡',
  transit: '公共交通', low_income: '低收入人口',
}
export const DATASET_COLUMNS = {
  population: 'id_number,name,gender,birth_date,phone,hukou_region,address',
  disability: 'id_number,certificate_no,disability_type,disability_level,issued_at',
  social_insurance: 'id_number,card_no,status,insured_since',
  health_card: 'id_number,health_card_no',
  transit: 'id_number,ride_account,standing',
  low_income: 'id_number,category,since',
}
export const SCENES = { service: '政务服务', health: '医疗健康', transit: '公共交通', social_security: '社会保障' }
export const ACTOR_TYPE = { admin: '工作人员', citizen: '市民', terminal: '扫码终端', system: '系统' }

export const label = (map, code) => (code == null ? '' : map[code] || code)

const pad = (n) => String(n).padStart(2, '0')
/** A timestamp as Beijing time, "2026-12-01 10:02". */
export function fmtTime(value) {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  const bj = new Date(d.getTime() + (d.getTimezoneOffset() + 480) * 60000)
  return `${bj.getFullYear()}-${pad(bj.getMonth() + 1)}-${pad(bj.getDate())} ${pad(bj.getHours())}:${pad(bj.getMinutes())}`
}
