// The staff session: tokens live in sessionStorage (gone with the tab), the account in a reactive object.
import { reactive } from 'vue'

const KEY = 'gov-console-session'

export const session = reactive({ access: null, refresh: null, admin: null })

export function loadSession() {
  const saved = sessionStorage.getItem(KEY)
  if (saved) Object.assign(session, JSON.parse(saved))
}

export function saveSession(tokens) {
  session.access = tokens.access_token
  session.refresh = tokens.refresh_token ?? session.refresh
  if (tokens.admin) session.admin = tokens.admin
  sessionStorage.setItem(KEY, JSON.stringify({ access: session.access, refresh: session.refresh, admin: session.admin }))
}

export function setAdmin(admin) {
  session.admin = admin
  sessionStorage.setItem(KEY, JSON.stringify({ access: session.access, refresh: session.refresh, admin }))
}

export function clearSession() {
  session.access = session.refresh = session.admin = null
  sessionStorage.removeItem(KEY)
}

/** True when the signed-in account has one of `roles` (none given: any account). */
export function hasRole(roles) {
  if (!session.admin) return false
  if (!roles || roles.length === 0) return true
  return session.admin.roles.some((r) => roles.includes(r))
}
