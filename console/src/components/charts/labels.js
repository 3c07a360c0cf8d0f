// Chinese names of the codes the dashboards chart (kept with the charts).
// The statuses, SLA states and scenes the clerk's pages name, in the same words.
export { CASE_STATUS as APPLICATION_STATUS, SLA as SLA_STATE, SCENES } from '../clerk/labels.js'
export const SLA_COLORS = { on_track: '#4caf50', warning: '#ffb300', overdue: '#e53935', paused: '#9e9e9e' }
export const STAGES = { queued: '排队', sent: '已发出', delivered: '已送达', read: '已读' }
export const RATING_COLORS = ['#2e7d32', '#66bb6a', '#fdd835', '#fb8c00', '#e53935'] // 5 to 1
export const OUTCOMES = { sent: '已发出', failed: '失败', skipped: '未发（回退）', uncertain: '是否收到未知', pending: '排队或发送中', expired: '超时未发' }
export const OUTCOME_COLORS = { sent: '#4caf50', failed: '#e53935', skipped: '#9e9e9e', uncertain: '#ffb300', pending: '#1e6fd9', expired: '#8d6e63' }
export { CHANNEL_SHORT } from '../policy/labels.js'
