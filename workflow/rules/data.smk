# Datasets are prepared once into tensors; every experiment reads them from here.


wildcard_constraints:
    dataset="|".join(config["datasets"]),


rule prepare_data:
    input:
        # a user's file or folder (sources npz and image_folder): a new one reruns the step
        lambda w: config["datasets"][w.dataset].get("path", []),
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
