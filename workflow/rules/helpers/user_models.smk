# The user's models (config section `user`) and the inputs every measurement of one takes,
# kept apart from user.smk so that each file holds either functions or rules.
from landscapes.user import describe, model_file

USER = config["user"]
USER_MODELS = USER["models"]
USER_SEEDS = seeds_of("user")

for _name, _spec in USER_MODELS.items():
    if _spec["dataset"] not in config["datasets"]:
        raise WorkflowError(f"config key 'user.models.{_name}.dataset': '{_spec['dataset']}' "
                            f"is not under datasets ({', '.join(config['datasets'])})")


def user_path(kind, name, seed="{seed}"):
    """One model's artifact: <kind>/user/seed<seed>/{user_model}/<name>."""
    return seed_path("user", kind, f"{{user_model}}/{name}", seed)


def user_check_path():
    return out("models/user/{user_model}/check.json")


def user_spec(w):
    """The model's spec (model, kwargs, checkpoint, dataset) and how errors name its data."""
    spec = USER_MODELS[w.user_model]
    return {**spec, "where": describe(spec["dataset"], config["datasets"][spec["dataset"]])}


def user_inputs(w):
    """Data, checkpoint and (for a file:function model) its file; measurements also take the
    check, so a model that does not load fails once, in user_check."""
    spec = USER_MODELS[w.user_model]
    inputs = {"data": dataset(spec["dataset"]), "checkpoint": spec["checkpoint"]}
    if model_file(spec["model"]):
        inputs["code"] = model_file(spec["model"])
    return inputs


def user_measure_inputs(w):
    return {**user_inputs(w), "check": user_check_path().format(user_model=w.user_model)}


def user_each(key, kind, name, seed):
    """{<key>_<model>: path} for every model at one seed."""
    return {artifact(key, m): user_path(kind, name, seed).format(user_model=m)
            for m in USER_MODELS}
