import pytest

from landscapes.names import (ResNetId, SharpRun, artifact, interp_id, parse_phi_key, phi_column,
                              phi_key, resnets)


def test_resnet_ids_round_trip_and_read_as_the_paper():
    for model in resnets([20, 56]):
        assert ResNetId.parse(str(model)) == model
    assert [str(m) for m in resnets([20])] == ["resnet20", "plain20"]
    assert ResNetId(56, False).label == "ResNet-56-noshort"
    assert artifact("surface", ResNetId(20, True)) == "surface_resnet20"
    with pytest.raises(ValueError, match="resnet20x"):
        ResNetId.parse("resnet20x")


def test_sharpness_run_ids_round_trip():
    run = SharpRun("mlp", 32, 0.0005, 2)
    assert str(run) == "mlp/b32_wd0.0005_s2" and SharpRun.parse(str(run)) == run
    assert str(SharpRun("vgg", 375, 0.0, 0)) == "vgg/b375_wd0_s0"
    assert run.slice_id == "mlp/slice_b32_wd0.0005_s2"
    assert run.plane_id == "mlp/plane_b32_wd0.0005_s2"
    assert interp_id("vgg", 0.0, 1) == "vgg/interp_wd0_s1"
    with pytest.raises(ValueError, match="mlp/b32"):
        SharpRun.parse("mlp/b32")


def test_sharpness_columns_round_trip():
    assert phi_column("full", 1e-3, "mean") == "phi_full_0.001_mean"
    assert parse_phi_key(phi_key("subspace", 5e-4)) == ("subspace", 5e-4)
    with pytest.raises(ValueError):
        parse_phi_key("diagonal_0.1")
