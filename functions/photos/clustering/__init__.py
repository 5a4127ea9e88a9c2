"""Face grouping engine: incremental assignment and full re-clustering of one user's faces.

Pure Python + numpy (no AWS, no database); the photos function stores faces and
people and calls this module. The algorithm, its parameters and the measurements
behind the defaults are in CLUSTERING.md next to this file.

DBSCAN on cosine distance (1 - dot of L2-normalised embeddings):

- a face is *core* when at least `min_faces` faces (itself included) lie within
  `max_distance` of it;
- `assign` (a new face, incremental): join the person of the nearest core
  neighbour (never a person that already has a face in the same photo); a core
  face with no assigned neighbour proposes a new person; anything else is
  deferred to the next `recluster`. A lone face (not core) joins only a very close
  neighbour (`pair_max_distance`), and two very close lone faces that are each other's
  nearest become a person of two;
- `recluster` (one user's faces, from scratch): constrained single linkage over
  the core graph. Core-core edges are merged in ascending distance order unless
  the merge would put two faces of one photo in one person (cannot-link), merge
  two different manual persons, or fails the average-linkage guard (the mean
  distance between the two groups must stay within `max_mean_distance`, which
  stops a chain of look-alikes from gluing two people together). Border faces
  (non-core, within `max_distance` of a core face) join the group of their
  nearest admissible core neighbour when the group as a whole agrees (mean
  distance within `lone_max_mean_distance`). Two left-over faces of two photos,
  each the other's nearest and within `pair_max_distance`, are a person of two.
  Other groups smaller than `min_faces` without a manual face stay unclustered
  (strangers, junk). Existing person ids are kept.

Modules: ``faces`` (records, parameters), ``gallery`` (the in-memory index),
``assign`` (incremental), ``recluster`` (full), ``people`` (centroids,
suggestions). The evaluation metrics live with the benchmark
(``bench/clustering_metrics.py``).
"""

from functions.photos.clustering.assign import Assignment, assign
from functions.photos.clustering.faces import EMBEDDING_DIM, ClusterParams, FaceRecord
from functions.photos.clustering.gallery import Gallery
from functions.photos.clustering.people import centroid, suggestions
from functions.photos.clustering.recluster import (
    ReclusterResult,
    neighbour_graph,
    recluster,
    recluster_detailed,
)

__all__ = [
    "EMBEDDING_DIM",
    "Assignment",
    "ClusterParams",
    "FaceRecord",
    "Gallery",
    "ReclusterResult",
    "assign",
    "centroid",
    "neighbour_graph",
    "recluster",
    "recluster_detailed",
    "suggestions",
]
