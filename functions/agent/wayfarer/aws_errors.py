"""What a storage failure means for the caller.

Throttling and an unreachable server are outages (503, retry later). An item over DynamoDB's
400 KB limit is the caller's input being too large (413). Anything else is our bug (500). The
AWS error text and ARNs go to the log, never to the caller."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

# Retryable by the caller: the service is busy or briefly unavailable.
OUTAGE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "TransactionInProgressException",
    }
)
RETRY_AFTER_SECONDS = 2


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_conditional_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def is_too_large(exc: ClientError) -> bool:
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return error_code(exc) == "ValidationException" and "size" in message.lower()


def is_outage(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        return error_code(exc) in OUTAGE_CODES
    # Connection refused, timeouts; not a request botocore itself refused (our bug).
    return isinstance(exc, BotoCoreError) and not isinstance(exc, ParamValidationError)


def public_error(exc: BaseException) -> str:
    """What a failure may say to the caller: a provider's own message (written by us), a
    storage failure as ``storage_status`` puts it, anything else by its kind only. AWS text
    (ARNs, account ids) stays in the log."""
    from wayfarer.providers import ProviderError  # the graph's layer; imported lazily

    if isinstance(exc, ProviderError):
        return str(exc)
    if isinstance(exc, (ClientError, BotoCoreError)):
        return storage_status(exc)[1]
    return f"{type(exc).__name__} (details in the log)"


def storage_status(exc: Exception) -> tuple[int, str]:
    """The HTTP status and caller-facing message for a storage exception."""
    if is_outage(exc):
        return 503, "Storage is busy or unreachable. Nothing was changed; try again shortly."
    if isinstance(exc, ClientError) and is_too_large(exc):
        return 413, (
            "The thread's data would exceed the storage limit for one item (400 KB). "
            "Send less text, or configure S3 offload (WAYFARER_OFFLOAD_BUCKET)."
        )
    return 500, "Storage refused the request because of a server error; it has been logged."
