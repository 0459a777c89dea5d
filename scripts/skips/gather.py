"""Merge the tiles of one surface or Hessian map (rules skips_surface, skips_hessian)."""

from landscapes.provenance import step
from landscapes.surface import Surface, merge_tiles

with step(snakemake, __file__):
    merged = merge_tiles([Surface.load(path) for path in snakemake.input])
    merged.save(snakemake.output[0])
