"""Online certificates (电子证明) and the licence wallet (电子证照, 亮证, 免提交)."""
