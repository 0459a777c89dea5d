# The raw files behind each dataset, kept apart from data.smk so that each file holds either
# functions or rules: torchvision sources are fetched (and verified) once per source.
from landscapes.data import TORCHVISION


def receipt_of(source):
    """The receipt fetch_data writes for a torchvision source."""
    return out(f"data/raw/{source}.json")


def raw_inputs(wildcards):
    """What prepare_data reads besides the resources folder: the receipt of a downloaded
    source, nothing for an offline one."""
    source = config["datasets"][wildcards.dataset]["source"]
    return {"receipt": receipt_of(source)} if source in TORCHVISION else {}
