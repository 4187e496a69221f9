"""Reference solution: read the unread mail on the laptop, compare with the phone's
agenda, and notify the user without touching anything."""


def solve(env):
    unread = env.shell("laptop", "mlist ~/Mail/INBOX | mscan | grep INC-2291")
    assert "INC-2291" in unread.stdout, unread.stdout
    mail = env.mail("laptop", "inc-2291-move@")
    assert "Wednesday 18 March, 16:00" in mail, mail
    env.launch("phone", "calendar")
    env.see("phone", "parent-teacher")
    env.notify(
        "Clash on Wednesday 18 March: Takeshi moved the INC-2291 incident review to "
        "16:00-17:00, the same time as Yuto's parent-teacher meeting (16:00-16:30). "
        "Your calendar still has the review on Tuesday. I changed nothing."
    )
