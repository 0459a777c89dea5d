# The raw files behind each dataset, kept apart from data.smk so that each file holds either
# functions or rules: torchvision sources are fetched (and verified) once per source.
from landscapes.data import TORCHVISION


def receipt_of(source):
    """The receipt fetch_data writes for a torchvision source."""
    return out(f"data/raw/{source}.json")


def raw_inputs(wildcards):
    """What prepare_data reads besides the resources folder: the receipt of a downloaded
    source, a user's file, nothing for a generated one."""
    spec = config["datasets"][wildcards.dataset]
    if spec["source"] in TORCHVISION:
        return {"receipt": receipt_of(spec["source"])}
    # a user's file or folder (sources npz and image_folder): a new one reruns the step
    return {"path": spec["path"]} if "path" in spec else {}
