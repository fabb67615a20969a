"""Auth declarations of the grading routes (who may do what is decided by the services)."""

from govshare.accounts.auth import SIGNED_IN

GradingRead = SIGNED_IN
GradingWrite = SIGNED_IN
