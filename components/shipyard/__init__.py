"""shipyard: a hardened ECS Fargate service from its source folder, as a Pulumi component.

    from shipyard import ContainerService, ContainerServiceArgs
"""

from .access_logs import AccessLogBucket, AccessLogBucketArgs
from .cluster import FargateCluster, FargateClusterArgs
from .container_service import ContainerService
from .errors import ConfigError
from .network import Network, NetworkArgs
from .service_image import ServiceImage, ServiceImageArgs
from .spec import ContainerArgs, ContainerServiceArgs, SecretArgs

__all__ = ["AccessLogBucket", "AccessLogBucketArgs", "ConfigError", "ContainerArgs",
           "ContainerService", "ContainerServiceArgs", "FargateCluster", "FargateClusterArgs",
           "Network", "NetworkArgs", "SecretArgs", "ServiceImage", "ServiceImageArgs"]
