"""shipyard: a hardened ECS Fargate service from its source folder, as a Pulumi component.

    from shipyard import ContainerService, ContainerServiceArgs
"""

from .access_logs import AccessLogBucket
from .cluster import FargateCluster
from .container_service import ContainerService
from .errors import ConfigError
from .network import Network
from .service_image import ServiceImage, ServiceImageArgs
from .spec import ContainerArgs, ContainerServiceArgs, SecretArgs

__all__ = ["AccessLogBucket", "ConfigError", "ContainerArgs", "ContainerService",
           "ContainerServiceArgs", "FargateCluster", "Network", "SecretArgs", "ServiceImage",
           "ServiceImageArgs"]
