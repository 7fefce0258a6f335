"""What the simulated accounts are made of: UI languages, named accounts, audience territories, video titles."""

from __future__ import annotations

# UI languages, cycled over accounts (account 1 en_US, 2 es, 3 en_GB, ...).
LOCALE_CYCLE = ("en_US", "es", "en_GB", "pt_BR", "fr", "de", "it", "ru", "vi", "ja", "ko", "zh", "id", "tr")
NAMED_ACCOUNTS = (("techcreator", "tech"), ("maria.cocina", "cooking"), ("le_petit_chef", "chef"))

TERRITORIES = {
    "en_US": ("US", "CA", "GB", "AU", "PH", "IN", "MX", "DE", "NG", "BR", "PK", "ZA"),
    "es": ("ES", "MX", "AR", "CO", "US", "CL", "PE", "VE", "EC", "DO", "GT", "UY"),
    "en_GB": ("GB", "FR", "US", "IE", "BE", "CA", "AU", "DE", "ES", "NL", "CH", "IT"),
    "pt_BR": ("BR", "PT", "US", "AO", "MZ", "JP", "PY", "AR", "ES", "FR", "IT", "CH"),
    "fr": ("FR", "BE", "CA", "CH", "MA", "DZ", "TN", "CI", "SN", "US", "LU", "CM"),
    "de": ("DE", "AT", "CH", "US", "NL", "PL", "TR", "IT", "GB", "FR", "LU", "BE"),
    "it": ("IT", "CH", "US", "DE", "ES", "FR", "GB", "AR", "BR", "AL", "BE", "SM"),
    "ru": ("RU", "KZ", "BY", "UA", "UZ", "KG", "DE", "US", "IL", "AM", "GE", "AZ"),
    "vi": ("VN", "US", "AU", "JP", "KR", "TW", "CA", "DE", "FR", "KH", "SG", "MY"),
    "ja": ("JP", "US", "TW", "KR", "HK", "TH", "PH", "SG", "ID", "MY", "BR", "VN"),
    "ko": ("KR", "US", "JP", "CA", "AU", "TW", "PH", "VN", "TH", "ID", "SG", "MY"),
    "zh": ("TW", "HK", "MY", "SG", "US", "CA", "AU", "MO", "JP", "TH", "GB", "NZ"),
    "id": ("ID", "MY", "SG", "PH", "US", "BN", "TW", "HK", "JP", "SA", "NL", "AU"),
    "tr": ("TR", "DE", "AZ", "NL", "FR", "AT", "US", "BE", "GB", "CY", "CH", "RU"),
}

# Titles carry the real quirks: emoji, doubled quotes, double and trailing spaces, "..." endings.
TITLES = {
    "tech": (
        "iPhone 17 Pro vs Pixel 10 camera test 📱",
        "This $20 gadget changed my desk setup 🔥",
        "Why your laptop is slow (and how to fix it)",
        'He said "it\'s just a phone" 😂',
        "POV: you finally clean your keyboard ⌨️ ",
        "Top 5 apps you NEED in 2026 #tech #apps",
        "unboxing the new  mechanical keyboard",
        "Wait for it... 🤯",
        "Replying to @sam_dev yes it runs Linux 🐧",
        "Building a PC for my little brother part 3 ...",
        'The "AI" button nobody uses 🤖 #fyp',
        "battery hack that actually works 🔋  ",
        "Is the Steam Deck 2 worth it? 🎮",
        "MacBook setup tour 2026 ✨ #desksetup",
        "3 settings to change on every new phone",
        "Cable management for people who hate cable management ...",
    ),
    "cooking": (
        "Tortilla de patatas en 5 minutos 🥔🍳",
        'La receta "secreta" de mi abuela 👵❤️',
        "Churros caseros crujientes #receta #cocina",
        "¿Con cebolla o sin cebolla? 🤔",
        "Paella valenciana auténtica (no lleva chorizo) ",
        "Flan de huevo sin horno 🍮",
        "Respuesta a @luisa_m: sí, se puede congelar",
        "Gazpacho andaluz 🍅  en 3 pasos",
        "Croquetas de jamón como las de mamá ...",
        "Lo que como en un día 🥗 #comidasana",
        "Pan sin amasar 🍞 ¡solo 4 ingredientes!",
        'Mi marido dijo "esto no es tortilla" 😂',
        "Turrón casero para Navidad 🎄",
        "Roscón de Reyes paso a paso 👑",
        "Empanadas gallegas 🥟 ",
        "Arroz con leche cremoso... el truco final",
    ),
    "chef": (
        "Perfect croissants at home 🥐",
        'Gordon would say "it\'s RAW" 😅',
        "Sunday roast for two 🇬🇧",
        "5-minute crème brûlée hack ...",
        "Knife skills 101 🔪 ",
        "Tarte Tatin like in Paris #frenchfood",
        "Beef bourguignon, but make it quick 🍷",
        "the  easiest quiche lorraine",
        "Mince pies from scratch 🎄",
        'My "lazy" ratatouille 🍆',
        "Soufflé that does NOT collapse 🙏",
        "Full English, French way ☕️",
        "Macarons attempt #3... 😭",
        "Onion soup gratinée 🧅🧀",
    ),
    "generic": (
        "Day in my life ✨",
        "Wait for the end 😂",
        'When your mom says "we have food at home" 🙃',
        "Part 2 ...",
        "GRWM for a date 💄",
        "Trying the viral trend 🔥 #fyp #viral",
        "Storytime: the worst job interview ever",
        "3 things I wish I knew at 20 ",
        "Morning routine 5AM ☀️",
        "Replying to @alex reaction 👀",
        "outfit check  🧥",
        "This sound is stuck in my head 🎶",
        "Honest review... not sponsored",
        "New year, new me? 🎆",
    ),
}

TITLE_SUFFIXES = ("", "", "", "", " #fyp", " pt. 2", " (part 3)", " 🔥", " #viral", " #foryou")
