// Policy titles by id for the campaign pages (campaigns carry only policy_id): one cache per page load.
import { reactive } from 'vue'
import { api } from '../../lib/api.js'

export const titles = reactive({})

/** Fetches the titles of these policy ids not known yet (a policy gone or unreadable keeps its id). */
export async function loadTitles(ids) {
  const missing = [...new Set(ids)].filter((id) => id && !(id in titles))
  await Promise.all(missing.map(async (id) => {
    try {
      const p = await api.get(`/admin/policies/${id}`)
      titles[id] = `${p.title}（第 ${p.version} 版）`
    } catch {
      titles[id] = id
    }
  }))
}
