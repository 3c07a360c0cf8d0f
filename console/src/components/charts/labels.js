// Chinese names of the codes the dashboards chart (kept with the charts).
export const APPLICATION_STATUS = {
  submitted: '已提交', supplement_requested: '待补正', supplemented: '已补正', accepted: '已受理', approved: '已批准',
  denied: '不予批准', rejected: '不予受理', withdrawn: '已撤回', completed: '已办结', shipped: '已寄出', delivered: '已送达',
}
export const SLA_STATE = { on_track: '正常', warning: '临期', overdue: '超期', paused: '暂停计时' }
export const SLA_COLORS = { on_track: '#4caf50', warning: '#ffb300', overdue: '#e53935', paused: '#9e9e9e' }
export const SCENES = { service: '政务服务', health: '医疗健康', transit: '公共交通', social_security: '社会保障' }
export const STAGES = { queued: '排队', sent: '已发出', delivered: '已送达', read: '已读' }
export const RATING_COLORS = ['#2e7d32', '#66bb6a', '#fdd835', '#fb8c00', '#e53935'] // 5 to 1
