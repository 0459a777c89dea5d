# Datasets are prepared once into tensors; every experiment reads them from here. A torchvision
# source is first fetched: downloaded where missing and checked against its md5s, on the
# submitting host (compute nodes often have no internet), which writes a receipt of the bytes
# verified; the preparation reads the resources folder (on the shared file system) against it.


include: "helpers/data_sources.smk"


wildcard_constraints:
    dataset="|".join(config["datasets"]),


localrules:
    fetch_data,


rule fetch_data:
    input:
        # a checksum file replacing torchvision's published md5s (fabricated data), if set
        **({"checksums": config["resources_checksums"]} if config["resources_checksums"] else {}),
    output:
        receipt_of("{source}"),
    wildcard_constraints:
        source="|".join(TORCHVISION),
    params:
        source="{source}",
        root=config["resources_dir"],
    log:
        out("logs/fetch_data/{source}.log"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/fetch_data.py"


rule prepare_data:
    input:
        unpack(raw_inputs),
    output:
        dataset("{dataset}"),
    params:
        spec=lambda w: config["datasets"][w.dataset],
        seed=lambda w: config["datasets"][w.dataset]["seed"],
        root=config["resources_dir"],
    log:
        out("logs/prepare_data/{dataset}.log"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/prepare_data.py"
