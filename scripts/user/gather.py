"""Merge the tiles of a user's model's surface or Hessian map (rules user_surface,
user_hessian)."""

from landscapes.provenance import step
from landscapes.surface import Surface, merge_tiles

with step(snakemake, __file__):
    merge_tiles([Surface.load(path) for path in snakemake.input]).save(snakemake.output[0])
