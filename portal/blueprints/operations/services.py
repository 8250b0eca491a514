"""Operations domain logic: services flush, routes commit."""
from __future__ import annotations

from ...services import ServiceError


class OperationsError(ServiceError):
    """A rule of the operations register refused the change."""
