from django.db import models


class SignInThrottle(models.Model):
    """Recent failed sign-ins of one username, and until when it is locked.

    There is one row per username tried, whether or not a staff member has it (so a lockout says
    nothing about which usernames exist). A sign-in holds the row locked while it checks the
    password, so attempts for one username are checked one at a time.
    """

    username = models.CharField(max_length=150, unique=True)
    # ISO times of the failures still inside the counting window, oldest first.
    failures = models.JSONField(default=list, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.username
