"""`hocba deploy manifests`: the Kubernetes base generated from the code's own topology."""

from cli.manifests.workloads import render

__all__ = ["render"]
