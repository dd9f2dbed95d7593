"""Model configs as text: `model.to_json()` / `model_from_json(s, custom_objects=)` and the
YAML pair, in Keras 1.2's layout (`{"class_name", "config", "keras_version"}`).

A Lambda's function is written as the ops it builds (saving/traced.py), never as code.
Text is untrusted input: JSON is parsed by `json`, YAML by `yaml.safe_load` (plain data only),
and every error, from malformed text to an unknown class, is a ValueError that says what was
wrong. Nothing in a config is ever executed.
"""
import json

KERAS_VERSION = "1.2.2"


def model_dict(model):
    """{'class_name', 'config', 'keras_version'}: what to_json writes (a Lambda's function as its
    traced ops, other code refused)."""
    from ..layers.serialization import check_data_only, file_config
    d = {"class_name": type(model).__name__, "config": file_config(model), "keras_version": KERAS_VERSION}
    check_data_only(d, "model %r" % model.name)
    return d


def to_json(model, **kwargs):
    return json.dumps(model_dict(model), **kwargs)


def _yaml():
    try:
        import yaml
    except ImportError:
        raise ImportError("to_yaml / model_from_yaml need PyYAML, an optional dependency of kiln: "
                          "pip install pyyaml (or the extra: pip install kiln-nn[yaml])") from None
    return yaml


def to_yaml(model, **kwargs):
    yaml = _yaml()
    data = json.loads(to_json(model))  # tuples become lists: YAML of plain data only
    return yaml.safe_dump(data, **kwargs)


def model_from_config(config, custom_objects=None):
    """A model (or layer) from `{'class_name': ..., 'config': ...}`."""
    from ..layers.serialization import deserialize
    if isinstance(config, list):
        raise ValueError("model_from_config expects a dict {'class_name': ..., 'config': ...}; got a list (a "
                         "Sequential's inner config?): use Sequential.from_config(config)")
    return deserialize(config, custom_objects=custom_objects)


def model_from_json(json_string, custom_objects=None):
    """The model that `model.to_json()` described (new layers, fresh weights).

    Args:
        json_string: text from to_json (kiln's or Keras 1.2's).
        custom_objects: {name: class or function} for the user's own layers, activations,
            initializers, regularizers, losses.
    """
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError, RecursionError) as e:
        raise ValueError("model_from_json: the text is not valid JSON (%s)" % (e,)) from None
    return model_from_config(config, custom_objects=custom_objects)


def model_from_yaml(yaml_string, custom_objects=None):
    """As model_from_json, from to_yaml's text (needs PyYAML)."""
    yaml = _yaml()
    try:
        config = yaml.safe_load(yaml_string)
    except yaml.YAMLError as e:
        raise ValueError("model_from_yaml: the text is not valid YAML (%s)" % (e,)) from None
    return model_from_config(config, custom_objects=custom_objects)
