"""Voices into speakers: agglomerative clustering of window embeddings. Pure (numpy,
scipy).

Average linkage on cosine distance, cut where clusters are further apart than
`THRESHOLD` (the speaker count found automatically), or cut to a count the caller
gives (`num_speakers`), or to the nearest count within `min_speakers`/`max_speakers`.
Clusters with fewer than `MIN_WINDOWS` windows (a cough, a laugh, an overlap) are not
speakers: their windows join the nearest real cluster.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

THRESHOLD = 0.30
MIN_WINDOWS = 3


def cluster(
    embeddings: np.ndarray,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
) -> np.ndarray:
    """A cluster number (0..k-1, in no order) for each row of `embeddings`."""
    n = embeddings.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1 or num_speakers == 1:
        return np.zeros(n, dtype=int)
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    tree = linkage(unit, method="average", metric="cosine")
    if num_speakers is not None:
        labels = fcluster(tree, t=min(num_speakers, n), criterion="maxclust")
    else:
        labels = fcluster(tree, t=THRESHOLD, criterion="distance")
        found = len(set(labels))
        wanted = max(min_speakers or 1, min(max_speakers or found, found))
        if wanted != found:
            labels = fcluster(tree, t=min(wanted, n), criterion="maxclust")
        labels = _absorb_small(unit, labels, keep_at_least=min_speakers or 1)
    return _dense(labels)


def _absorb_small(unit: np.ndarray, labels: np.ndarray, keep_at_least: int) -> np.ndarray:
    labels = labels.copy()
    sizes = {c: int((labels == c).sum()) for c in set(labels.tolist())}
    big = [c for c, size in sizes.items() if size >= MIN_WINDOWS]
    if len(big) < max(1, keep_at_least) or len(big) == len(sizes):
        return labels
    centroids = np.stack([unit[labels == c].mean(axis=0) for c in big])
    for i in np.flatnonzero(~np.isin(labels, big)):
        labels[i] = big[int(np.argmax(centroids @ unit[i]))]
    return labels


def _dense(labels: np.ndarray) -> np.ndarray:
    _, dense = np.unique(labels, return_inverse=True)
    return dense.astype(int)
