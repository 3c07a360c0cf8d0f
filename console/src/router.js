// Routes of the console. `meta.roles` decides both the menu and the guard; the API enforces the same roles.
import { createRouter, createWebHashHistory } from 'vue-router'
import { session, loadSession, hasRole } from './lib/session.js'

export const CLERK = ['reviewer', 'super_admin']
export const POLICY = ['policy_admin', 'super_admin']
export const IMPORTS = ['policy_admin', 'super_admin']
export const SUPER = ['super_admin']
export const AUDIT = ['auditor', 'super_admin']
export const DASHBOARDS = ['reviewer', 'policy_admin', 'auditor', 'super_admin']

// The side menu: groups of pages, each shown only to the roles it names.
export const MENU = [
  { title: '办件', items: [
    { name: 'queue', title: '办件队列', icon: 'Tickets' },
    { name: 'certificates', title: '证明审核', icon: 'Stamp' },
  ] },
  { title: '政策与推送', items: [
    { name: 'policies', title: '政策', icon: 'Document' },
    { name: 'campaigns', title: '推送批次', icon: 'Promotion' },
  ] },
  { title: '登记数据', items: [{ name: 'imports', title: '数据导入', icon: 'Upload' }] },
  { title: '系统管理', items: [
    { name: 'staff', title: '工作人员', icon: 'User' },
    { name: 'terminals', title: '扫码终端', icon: 'Cellphone' },
    { name: 'audit', title: '审计日志', icon: 'List' },
  ] },
  { title: '数据看板', items: [{ name: 'dashboards', title: '数据看板', icon: 'DataAnalysis' }] },
]

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/Login.vue'), meta: { public: true, title: '登录' } },
  {
    path: '/', component: () => import('./views/Layout.vue'), children: [
      { path: '', name: 'home', component: () => import('./views/Home.vue'), meta: { title: '首页' } },
      { path: 'cases', name: 'queue', component: () => import('./views/cases/Queue.vue'), meta: { roles: CLERK, title: '办件队列' } },
      { path: 'cases/:id', name: 'case', component: () => import('./views/cases/CaseDetail.vue'), meta: { roles: CLERK, title: '办件详情' } },
      { path: 'certificates', name: 'certificates', component: () => import('./views/certificates/CertificateQueue.vue'), meta: { roles: CLERK, title: '证明审核' } },
      { path: 'certificates/:id', name: 'certificate', component: () => import('./views/certificates/CertificateDetail.vue'), meta: { roles: CLERK, title: '证明详情' } },
      { path: 'policies', name: 'policies', component: () => import('./views/policies/PolicyList.vue'), meta: { roles: POLICY, title: '政策' } },
      { path: 'policies/new', name: 'policy-new', component: () => import('./views/policies/PolicyEdit.vue'), meta: { roles: POLICY, title: '新建政策' } },
      { path: 'policies/:id', name: 'policy', component: () => import('./views/policies/PolicyEdit.vue'), meta: { roles: POLICY, title: '编辑政策' } },
      { path: 'campaigns', name: 'campaigns', component: () => import('./views/campaigns/CampaignList.vue'), meta: { roles: POLICY, title: '推送批次' } },
      { path: 'campaigns/:id', name: 'campaign', component: () => import('./views/campaigns/CampaignDetail.vue'), meta: { roles: POLICY, title: '推送批次详情' } },
      { path: 'imports', name: 'imports', component: () => import('./views/registry/Imports.vue'), meta: { roles: IMPORTS, title: '数据导入' } },
      { path: 'staff', name: 'staff', component: () => import('./views/admin/Staff.vue'), meta: { roles: SUPER, title: '工作人员' } },
      { path: 'terminals', name: 'terminals', component: () => import('./views/admin/Terminals.vue'), meta: { roles: SUPER, title: '扫码终端' } },
      { path: 'audit', name: 'audit', component: () => import('./views/admin/AuditLog.vue'), meta: { roles: AUDIT, title: '审计日志' } },
      { path: 'dashboards', name: 'dashboards', component: () => import('./views/dashboards/Dashboards.vue'), meta: { roles: DASHBOARDS, title: '数据看板' } },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

const router = createRouter({ history: createWebHashHistory(), routes })

router.beforeEach((to) => {
  loadSession()
  if (to.meta.public) return true
  if (!session.access) return { name: 'login', query: { next: to.fullPath } }
  if (to.meta.roles && !hasRole(to.meta.roles)) return { name: 'home' }
  return true
})

router.afterEach((to) => {
  document.title = `${to.meta.title || ''} - 政务服务管理后台`
})

export default router
