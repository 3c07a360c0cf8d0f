// Department names, from the public catalogue (each service item names its department).
import { reactive } from 'vue'
import { api } from '../../lib/api.js'

const names = reactive({})
let loading = null

/** Loads the names once per page load; `deptName(code)` reads them (the code until they arrive). */
export function loadDepts() {
  loading ??= (async () => {
    let cursor = null
    try {
      for (let i = 0; i < 10; i += 1) {
        const page = await api.get('/items', { limit: 100, cursor })
        for (const item of page.items) if (item.dept_name) names[item.dept] = item.dept_name
        cursor = page.next_cursor
        if (!cursor) break
      }
    } catch { loading = null /* names stay codes; another page tries again */ }
  })()
  return loading
}

export const deptName = (code) => (code ? names[code] || code : '')
export const deptNames = names
