"""Cross-validation splitters that stratify soft labels."""

from ._split import RepeatedSoftStratifiedKFold, SoftStratifiedKFold

__all__ = ["RepeatedSoftStratifiedKFold", "SoftStratifiedKFold"]
