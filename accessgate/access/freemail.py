"""Common free-mail domains: the default deny-list for "institutional e-mail" requirements."""

FREE_MAIL_DOMAINS = [
    "126.com", "163.com", "aol.com", "fastmail.com", "gmail.com", "gmx.com", "gmx.de", "gmx.net",
    "googlemail.com", "hey.com", "hotmail.com", "icloud.com", "live.com", "mac.com", "mail.com", "mail.ru",
    "me.com", "msn.com", "naver.com", "outlook.com", "pm.me", "proton.me", "protonmail.com", "qq.com",
    "rambler.ru", "rediffmail.com", "t-online.de", "tutanota.com", "web.de", "yahoo.co.jp", "yahoo.co.uk",
    "yahoo.com", "yandex.com", "yandex.ru", "zoho.com",
]  # fmt: skip


def default_denied_domains() -> list[str]:
    return list(FREE_MAIL_DOMAINS)
