"""Load a user's model with its checkpoint, try it on its data, and record what it is and
how it does at the checkpoint (rule user_check)."""

from landscapes import user
from landscapes.data import Dataset
from landscapes.params import Layout, evaluate
from landscapes.provenance import step
from landscapes.store import save_json

with step(snakemake, __file__):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"], p.ignore_bias_bn)
    lay = Layout.of(model)
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train)
    test_loss, test_acc = evaluate(model, data.x_test, data.y_test)
    save_json(snakemake.output[0], {
        "model": p.spec["model"], "checkpoint": p.spec["checkpoint"],
        "parameters": lay.dim, "weights_moved": int((~lay.bias_bn_mask()).sum()),
        "input_shape": list(data.input_shape), "n_classes": data.n_classes,
        "n_train": len(data.y_train), "n_test": len(data.y_test),
        "train_loss": train_loss, "train_acc": train_acc,
        "test_loss": test_loss, "test_acc": test_acc, "bn_mode": "eval (running statistics)"})
