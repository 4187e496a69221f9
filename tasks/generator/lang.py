"""What a persona's language decides in a generated life: how family, friends and local
senders write (SMS, invoices, a landlord's note, reminders), so Maya's mother writes
German in Berlin and Aiko's bills come in Japanese in Tokyo.

Work mail and chat stay in English (the bundled personas' employers work in English), as
do newsletters. English is the words of :mod:`tasks.generator.words`, so a persona without
``language`` (or with ``en``) gets the same stream as before languages existed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.generator import words as W

# Slots as in words.py: {person} {day} {time} {minutes} {place} {child} {shop} {amount} …


@dataclass(frozen=True)
class Phrases:
    family_in: tuple[str, ...]
    family_out: tuple[str, ...]
    friend: tuple[str, ...]
    dialogues: tuple[tuple[str, ...], ...]
    day_names: tuple[str, ...]
    months: tuple[str, ...]
    service_sms: tuple[tuple[str, str], ...]
    # {payee} {month} {amount} {name} {account} {day} {number} {category}
    invoice_subject: str
    invoice_body: str
    # {name} {first} {category} {address} {new} {old} {payee} {signed}
    change_company: str
    change_private: str
    reminder: str  # {title} {date} {time}
    categories: dict[str, str]  # a bill's category as the language says it (rent -> Miete)

    def month(self, number: int) -> str:
        return self.months[number - 1]

    def category(self, name: str) -> str:
        return self.categories.get(name, name)


EN = Phrases(
    family_in=W.FAMILY_SMS_IN + W.MORE_FAMILY_SMS,
    family_out=W.FAMILY_SMS_OUT,
    friend=W.FRIEND_SMS,
    dialogues=W.DIALOGUES,
    day_names=W.DAY_NAMES,
    months=(
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    service_sms=W.SERVICE_SMS_BY_SENDER,
    invoice_subject="Your {payee} invoice for {month}",
    invoice_body=(
        "Dear {name},\n\nyour invoice for {month} is ready. "
        "The amount of {amount} will be collected from "
        "your account ending in {account} on or shortly after day {day} "
        "of the month.\n\nCustomer number: {number}\n"
        "Category: {category}\n\n"
        "If you have questions about this invoice, reply to this message or call our "
        "service line on weekdays between 8:00 and 18:00.\n\nKind regards,\n"
        "{payee} customer service"
    ),
    change_company=(
        "Dear {name}, from next month the {category} for {address} changes to {new} "
        "(currently {old}). Please adjust your standing order. {payee}"
    ),
    change_private=(
        "Hi {first}, a heads-up: from next month the {category} goes up to {new} "
        "(it's {old} now), my costs went up too. Could you change your standing order? "
        "Thanks, {signed}"
    ),
    reminder="Reminder: {title} on {date} at {time}. Reply C to cancel.",
    categories={},
)

DE = Phrases(
    family_in=(
        "Kannst du auf dem Heimweg Brot mitbringen?",
        "Bin ca. {minutes} Minuten später, sorry!",
        "Hast du den Brief von der Schule gesehen?",
        "Abendessen um {time}?",
        "Bin jetzt bei {place}.",
        "Nicht vergessen, wir sind am {day} bei {person}.",
        "Ruf mich an, wenn du kurz Zeit hast.",
        "Hab die Karten 🎉",
        "Wo hast du den Ersatzschlüssel hingelegt?",
        "Der Klempner kommt am {day} um {time}.",
        "Hab dich lieb, schönen Tag ❤️",
        "Schickst du mir nochmal die Adresse?",
        "Bin jetzt los.",
        "Milch und Kaffee sind alle.",
        "Hast du die Stromrechnung bezahlt?",
        "{child} sagt hallo 👋",
        "Wie war der Termin?",
        "Es regnet, nimm den Schirm mit ☔",
        "Gerade gelandet.",
        "Können wir das Essen auf {day} verschieben?",
        "Die Kinder schlafen endlich 😴",
        "Soll ich für {day} im Restaurant reservieren?",
        "Autoschlüssel liegt auf dem Küchentisch.",
        "Paket von {shop} abgeholt.",
        "Denk an den Zahnarzt für {child} am {day}.",
        "Brauchen wir was von {place}?",
        "Ich koche heute, Wünsche?",
        "Danke!! 😊",
    ),
    family_out=(
        "Klar, mach ich.",
        "Bin unterwegs.",
        "Ja, {time} passt.",
        "Sorry, im Meeting, ruf dich später an.",
        "Danke ❤️",
        "Nein, noch nicht, mach ich heute Abend.",
        "In der Schublade neben der Tür.",
        "Perfekt, bis dann.",
        "Heute geht nicht, wie wäre {day}?",
        "Haha, ja 😂",
        "Alles klar.",
        "Bin gegen {time} zu Hause.",
        "Ich schau in den Kalender und melde mich.",
        "Hab ich heute früh schon gekauft.",
        "👍",
        "Schick mir ein Foto?",
        "Super Neuigkeiten!",
        "Ok, kein Problem.",
    ),
    friend=(
        "Steht {day} noch?",
        "Bouldern diese Woche?",
        "Das Café an der Ecke hat zu 😢",
        "Alles Gute zum Geburtstag!! 🎂",
        "Hast du das Buch fertig?",
        "Auf ein Bier am {day} um {time}?",
        "Hab die Fotos vom Sommer gefunden, schick ich heute Abend.",
        "Kann ich am Wochenende deine Bohrmaschine leihen?",
        "Lass uns nächstes Mal zu {place} gehen.",
        "Schön, dass wir uns gestern gesehen haben!",
        "Spieleabend bei mir am {day}, bring Snacks mit.",
        "Hast du meine Sprachnachricht bekommen?",
    ),
    dialogues=(
        (
            "> Kannst du auf dem Heimweg Brot mitbringen?",
            "< Klar. Sonst noch was?",
            "> Milch und Eier 🙏",
            "< Ok 👍",
        ),
        ("> Wann gibt's Essen?", "< So gegen {time}?", "> Perfekt, bis dann."),
        ("< Bin {minutes} Minuten später, sorry!", "> Kein Stress.", "< Fangt ohne mich an."),
        ("> Steht {day} noch?", "< Ja! {time} bei {place}?", "> 👍 bis dann"),
        ("< Wo ist der Ersatzschlüssel?", "> Schublade neben der Tür.", "< Gefunden, danke!"),
        (
            "> Der Klempner kommt am {day} um {time}.",
            "< Kannst du zu Hause sein? Ich hab den ganzen Tag Termine.",
            "> Ich mach morgens Homeoffice.",
            "< Du bist die Beste ❤️",
        ),
        ("< Hast du die Stromrechnung bezahlt?", "> Ja, am Montag.", "< Super, eins weniger."),
        ("> Hab die Karten 🎉", "< Toll! Was bekommst du von mir?", "> {amount}, keine Eile."),
        ("> Mama fragt, ob wir am {day} kommen.", "< Sag ja, nach dem Mittag.", "> Mach ich."),
        ("< Bin jetzt los.", "> Fahr vorsichtig."),
        ("> Es regnet, nimm den Schirm ☔", "< Zu spät 😅", "> Typisch."),
    ),
    day_names=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    months=(
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    service_sms=(
        ("Verify", "Ihr Bestätigungscode lautet {code}. Er ist 10 Minuten gültig."),
        ("DHL", "Ihre Sendung {code} wird heute zwischen {time} und {time2} zugestellt."),
        ("Packstation", "Abholcode {code}. Ihre Sendung liegt in der Packstation bereit."),
        ("{bank}", "{bank}: Kartenzahlung über {amount} bei {shop} genehmigt."),
        ("Mobilfunk", "Ihr Datenvolumen ist zu 80 % verbraucht. Jetzt nachbuchen."),
        ("Reservix", "Ihr Tisch für 2 im {cafe} ist für den {date} um {time} bestätigt."),
        (
            "Erinnerung",
            "Erinnerung: Ihr Termin bei {place} ist am {date} um {time}. Absagen mit C.",
        ),
    ),
    invoice_subject="Ihre Rechnung von {payee} für {month}",
    invoice_body=(
        "Sehr geehrte(r) {name},\n\nIhre Rechnung für {month} liegt vor. Der Betrag von "
        "{amount} wird am oder kurz nach dem {day}. des Monats von Ihrem Konto mit der "
        "Endung {account} abgebucht.\n\nKundennummer: {number}\nKategorie: {category}\n\n"
        "Bei Fragen zu dieser Rechnung antworten Sie auf diese Nachricht oder rufen Sie "
        "werktags zwischen 8:00 und 18:00 Uhr unsere Servicehotline an.\n\n"
        "Mit freundlichen Grüßen\nIhr Kundenservice von {payee}"
    ),
    change_company=(
        "Sehr geehrte(r) {name}, ab nächstem Monat ändert sich die {category} für "
        "{address} auf {new} (bisher {old}). Bitte passen Sie Ihren Dauerauftrag an. {payee}"
    ),
    change_private=(
        "Hallo {first}, kurz zur Info: ab nächstem Monat wird die {category} {new} "
        "(bisher {old}), meine Kosten sind auch gestiegen. Kannst du den Dauerauftrag "
        "ändern? Danke und viele Grüße, {signed}"
    ),
    reminder="Erinnerung: {title} am {date} um {time} Uhr. Absagen mit C.",
    categories={"rent": "Miete", "utilities": "Nebenkosten", "phone": "Handyrechnung"},
)

JA = Phrases(
    family_in=(
        "帰りにパンを買ってきてくれる？",
        "{minutes}分くらい遅れます、ごめん！",
        "学校からの手紙見た？",
        "夕飯は{time}でいい？",
        "今{place}にいるよ。",
        "{day}は{person}の家に行くの忘れないでね。",
        "時間があるとき電話して。",
        "チケット取れた🎉",
        "合鍵どこに置いた？",
        "水道屋さんは{day}の{time}に来るって。",
        "いってらっしゃい❤️",
        "住所もう一回送ってくれる？",
        "今出ます。",
        "牛乳とコーヒーがもうない。",
        "電気代払った？",
        "{child}がよろしくって👋",
        "病院どうだった？",
        "雨だから傘持っていってね☔",
        "今着陸した。",
        "{child}やっと寝た😴",
        "荷物を{shop}で受け取ったよ。",
        "ありがとう！😊",
    ),
    family_out=(
        "了解、やっとく。",
        "今向かってる。",
        "うん、{time}で大丈夫。",
        "ごめん会議中、あとで電話する。",
        "ありがとう❤️",
        "まだ、今夜やるね。",
        "玄関の横の引き出し。",
        "了解、またあとで。",
        "今日は無理、{day}はどう？",
        "👍",
        "{time}ごろ帰ります。",
        "カレンダー見てまた連絡する。",
        "写真送って？",
        "大丈夫だよ。",
    ),
    friend=(
        "{day}の予定まだ大丈夫？",
        "お誕生日おめでとう！🎂",
        "あの本読み終わった？",
        "{day}の{time}に飲みに行かない？",
        "去年の夏の写真見つけた、今夜送るね。",
        "週末ドリル借りてもいい？",
        "次は{place}に行こう。",
        "昨日は会えてうれしかった！",
        "ボイスメッセージ聞いた？",
    ),
    dialogues=(
        ("> 帰りにパン買ってきてくれる？", "< いいよ。他には？", "> 牛乳と卵🙏", "< 了解👍"),
        ("> 夕飯何時？", "< {time}ごろかな？", "> 了解、またあとで。"),
        ("< {minutes}分遅れます、ごめん！", "> 大丈夫。", "< 先に始めてて。"),
        ("> {day}の予定まだ大丈夫？", "< うん！{place}で{time}？", "> 👍"),
        ("< 合鍵どこ？", "> 玄関の横の引き出し。", "< あった、ありがとう！"),
        ("< 電気代払った？", "> 月曜に払ったよ。", "< よかった。"),
        ("> チケット取れた🎉", "< すごい！いくら払えばいい？", "> {amount}、いつでもいいよ。"),
        ("< 今出ます。", "> 気をつけてね。"),
    ),
    day_names=("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"),
    months=tuple(f"{n}月" for n in range(1, 13)),
    service_sms=(
        ("認証", "認証コードは{code}です。10分間有効です。"),
        ("ヤマト運輸", "お荷物{code}は本日{time}〜{time2}にお届け予定です。"),
        ("宅配ロッカー", "受取コード{code}。ロッカーにお荷物が届いています。"),
        ("{bank}", "{bank}：{shop}で{amount}のカード利用がありました。"),
        ("モバイル", "データ通信量が80%に達しました。"),
        ("予約", "{cafe}のご予約（2名様）{date} {time}を承りました。"),
        ("リマインダー", "{place}のご予約は{date} {time}です。キャンセルはCと返信。"),
    ),
    invoice_subject="{payee} {month}分のご請求",
    invoice_body=(
        "{name} 様\n\n{month}分のご請求額は{amount}です。{day}日ごろに口座（末尾{account}）"
        "から引き落とされます。\n\nお客様番号：{number}\n区分：{category}\n\n"
        "ご不明な点は、このメールにご返信いただくか、平日8:00〜18:00にサービスセンターまで"
        "お電話ください。\n\n{payee} カスタマーサービス"
    ),
    change_company=(
        "{name} 様　来月より{address}の{category}が{new}（現在{old}）に変更になります。"
        "自動振込の金額変更をお願いいたします。{payee}"
    ),
    change_private=(
        "{first}さん、お知らせです。来月から{category}を{new}（今は{old}）にさせてください。"
        "振込の金額の変更をお願いします。{signed}"
    ),
    reminder="リマインダー：{title}は{date} {time}です。キャンセルはCと返信。",
    categories={"rent": "家賃", "utilities": "光熱費", "phone": "携帯料金"},
)

PHRASES = {"en": EN, "de": DE, "ja": JA}
