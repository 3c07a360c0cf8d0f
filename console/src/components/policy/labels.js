// Chinese names of the policy and campaign codes the API uses (kept here: the pages of policies and campaigns).
export const POLICY_STATUS = { draft: '草稿', published: '已发布', archived: '已归档' }
export const POLICY_STATUS_TAG = { draft: 'info', published: 'success', archived: 'warning' }
export const MODES = { auto_grant: '免申即享', notify: '精准推送' }
export const CHANNELS = { wechat: '微信订阅消息', alipay: '支付宝消息', inbox: '站内信', sms: '短信' }
export const CHANNEL_SHORT = { wechat: '微信', alipay: '支付宝', inbox: '站内信', sms: '短信' }
export const CHANNEL_ORDER = ['wechat', 'alipay', 'inbox', 'sms']

export const CAMPAIGN_STATUS = {
  awaiting_approval: '待审批', queued: '排队中', running: '进行中', paused: '已暂停',
  completed: '已完成', cancelled: '已取消', failed: '失败',
}
export const CAMPAIGN_STATUS_TAG = {
  awaiting_approval: 'warning', queued: 'info', running: 'primary', paused: 'warning',
  completed: 'success', cancelled: 'info', failed: 'danger',
}
export const CAMPAIGN_FINISHED = ['completed', 'cancelled', 'failed']
export const CAMPAIGN_STAGE = { match: '匹配受众', send: '发送消息', done: '结束' }

export const REASONS = {
  user_refused: '用户拒收或未授权', no_consent: '未订阅', no_account: '无该平台账号', no_phone: '无手机号',
  opted_out: '已退订该渠道', bad_recipient: '收件人无效', upstream_timeout: '平台超时', upstream_unavailable: '平台不可用',
  channel_paused: '渠道暂停', channel_paused_for_quota: '渠道额度用尽暂停', quiet_hours: '免打扰时段',
  template_error: '消息模板有误', message_not_rendered: '消息未能生成', unknown_channel: '未知渠道', unknown: '原因不明',
}

export const label = (table, code) => table[code] ?? code
export const channelsText = (list, short = false) => (list || []).map((c) => (short ? CHANNEL_SHORT : CHANNELS)[c] ?? c).join('、')
