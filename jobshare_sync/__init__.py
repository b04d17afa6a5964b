"""jobshare-sync: share job sources with friends over git, merged record by record."""

__version__ = "0.1.0"
