"""The world's services: real protocol servers, one private set per world.

See ``docs/services.md``. :class:`~rig.services.stack.ServiceStack` starts the
services a task declares (``services: [mail, calendar, contacts]``) and hands out
one controller-side object per service (:mod:`rig.services.mail`,
:mod:`rig.services.calendar`, :mod:`rig.services.contacts`) with its endpoint,
health check, seeding and readers.
"""

from rig.services.base import SERVICES, Account, ServiceDown

__all__ = ["SERVICES", "Account", "ServiceDown"]
