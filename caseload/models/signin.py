from django.db import models

# The `source` of a username's account-wide row (every source counts toward it).
ANY_SOURCE = ""


class SignInThrottle(models.Model):
    """Recent failed sign-ins of one username from one source (a client address), or from every
    source (`source` empty: the account-wide row), and until when they are locked.

    There is one row per username and source tried, whether or not a staff member has the
    username (so a lockout says nothing about which usernames exist). A sign-in holds the
    username's rows locked while it checks the password, so attempts for one username are
    checked one at a time.
    """

    username = models.CharField(max_length=150)
    source = models.CharField(max_length=64, blank=True, default=ANY_SOURCE)
    # ISO times of the failures still inside the counting window, oldest first.
    failures = models.JSONField(default=list, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["username", "source"], name="signin_throttle_one_per_username_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.source or 'anywhere'}"
