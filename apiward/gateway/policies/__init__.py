"""The built-in gateway policies, one per module, registered in ``chain.POLICIES``.

Importing this package registers them. Order of the chain (``Policy.order``)::

    10 ip-filter            20 cors               25 client-rate-limit
    30 authentication       35 authorization      40 rate-limit
    50 validation           60 response-filter    90 security-headers
"""

from apiward.gateway.policies.authentication import Authentication
from apiward.gateway.policies.authorization import AccessRule, Authorization
from apiward.gateway.policies.cors import Cors
from apiward.gateway.policies.ip_filter import IpFiltering
from apiward.gateway.policies.rate_limit import ClientRateLimit, RateLimit, RateRule, split_rules
from apiward.gateway.policies.response_filtering import ResponseFiltering
from apiward.gateway.policies.security_headers import SecurityHeaders
from apiward.gateway.policies.validation import Validation

__all__ = [
    "AccessRule",
    "Authentication",
    "Authorization",
    "ClientRateLimit",
    "Cors",
    "IpFiltering",
    "RateLimit",
    "RateRule",
    "ResponseFiltering",
    "SecurityHeaders",
    "Validation",
    "split_rules",
]
