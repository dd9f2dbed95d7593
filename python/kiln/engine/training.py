"""Model: a Container that compiles to native programs and trains them.

`compile()` builds the symbolic loss and metrics; the programs are made on first use:
predict (outputs from inputs), test (loss and metrics from inputs and targets), and train (the
test graph in the train phase, plus gradients and optimizer updates appended by the core).
Each epoch of `fit` runs natively with the GIL released; Python is called back a few times a
second for the progress bar, or per batch only when a callback overrides a batch hook.
"""
import threading

import numpy as np

from .. import _core, backend as K, distributed, losses as losses_mod, metrics as metrics_mod, optimizers
from ..backend.tensor import _ids
from ..backend.variables import check_placement, compile_program
from ..callbacks import BaseLogger, CallbackList, History, ProgbarLogger
from ..graph.container import Container
from ..lower import lower
from ..device import check as check_device, get_device
from . import data as data_utils
from .data import (batch_shuffle, check_array_lengths, check_loss_and_target_compatibility,  # noqa: F401
                   make_batches, slice_X, standardize_input_data, standardize_weights)
from .summary import print_summary

# Seconds between the native loop's progress reports to Python when no callback needs every
# batch (it also reports the last batch, and at once after a non-finite loss).
PROGRESS_INTERVAL_S = 0.25


def _per_output(value, names, what, missing=None):
    """A per-output list from one value, a list (one per output) or a dict by output name; a
    name absent from a dict gets `missing`, or is an error when `missing` is None."""
    n = len(names)
    if isinstance(value, dict):
        for k in value:
            if k not in names:
                raise ValueError('Unknown entry in %s dictionary: "%s". Only expected the following keys: %s'
                                 % (what, k, names))
        if missing is None:
            for name in names:
                if name not in value:
                    raise ValueError('Output "%s" missing from %s dictionary.' % (name, what))
        return [value.get(name, missing) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError("When passing a list as %s, it should have one entry per model outputs. The model has %d "
                             "outputs, but you passed %s=%s" % (what, n, what, list(value)))
        return list(value)
    return [value] * n


def collect_metrics(metrics, output_names):
    """Keras 1.2: one list of metrics per output, from a list (the same for every output) or a
    dict by output name (a single metric or a list each; missing outputs get none)."""
    if isinstance(metrics, dict):
        return [list(m) if isinstance(m, (list, tuple)) else [m]
                for m in _per_output(metrics, output_names, "metrics", missing=[])]
    if metrics is not None and not isinstance(metrics, (list, tuple)):
        raise TypeError("Type of `metrics` argument not understood. Expected a list or dictionary, found: %s"
                        % (metrics,))
    return [list(metrics or []) for _ in output_names]


def collect_trainable_weights(layer):
    """Keras 1.2: a layer's or model's trainable weights, each once, sorted by name."""
    unique = {id(w): w for w in (layer.trainable_weights if getattr(layer, "trainable", True) else [])}
    return sorted(unique.values(), key=lambda w: w.name)


def weighted_objective(fn):
    """Keras 1.2's engine.training.weighted_objective: fn(y_true, y_pred) made into
    weighted(y_true, y_pred, weights, mask=None), the sample-weighted mean that compile uses."""
    def weighted(y_true, y_pred, weights, mask=None):
        return _weighted_mean(_masked(fn(y_true, y_pred), mask), weights)
    return weighted


def _weighted_mean(score, weights):
    """Keras' weighted objective: the loss (the axes past the weights' averaged) times the
    weights (one per sample, or per sample and timestep), divided by the fraction of non-zero
    weights, averaged. Unlike Keras 1.2, a batch whose weights are all zero gives 0, not NaN."""
    if not score.shape:
        return score  # a custom loss that already reduced over the batch
    if len(score.shape) > len(weights.shape):
        score = K.mean(score, axis=list(range(len(weights.shape), len(score.shape))))
    nonzero = K.maximum(K.mean(K.not_equal(weights, 0.0)), K.epsilon())
    return K.mean(score * weights) / nonzero


def _masked(score, mask):
    """Keras 1.2: masked entries of the loss count 0, the rest rescaled by the mask's mean."""
    if mask is None or not score.shape:
        return score
    mask = K.cast(mask, "float32")
    return score * mask / K.mean(mask)


def _dedupe(names):
    """Keras' fit renames repeated metric names (an output listed twice): x, x -> x_1, x_2."""
    out, seen = [], {}
    for n in names:
        if names.count(n) > 1:
            seen[n] = seen.get(n, 0) + 1
            n = "%s_%d" % (n, seen[n])
        out.append(n)
    return out


def _as_f32(arrays):
    """C-contiguous float32 views or copies: what the native loops read."""
    return [np.require(a, dtype=np.float32, requirements="C") for a in arrays]


def _check_finite(arrays, names, what):
    """Rejects NaN/inf (counted natively, in parallel); the message comes from data_utils."""
    for i, a in enumerate(arrays):
        if _core.count_nonfinite(a):
            data_utils.check_finite([a], [names[i]], what)
            raise ValueError("Error when checking %s: %s contains non-finite values" % (what, names[i]))


# Guards the making of native programs, so that threads calling predict at once on a new
# model compile it once (compiling is rare; running programs takes no lock).
_PROGRAMS_LOCK = threading.RLock()


class Model(Container):
    """A functional model: `Model(input=x, output=y)` or `Model(inputs=[...], outputs=[...])`."""

    def __init__(self, input=None, output=None, name=None, inputs=None, outputs=None):
        super().__init__(input=input, output=output, name=name, inputs=inputs, outputs=outputs)
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._programs = {}

    # Compilation.
    def compile(self, optimizer, loss, metrics=None, loss_weights=None, sample_weight_mode=None,
                check_numerics=False, device=None, **kwargs):
        """Configures training.

        Args:
            optimizer: name ('rmsprop', 'adam', ...) or Optimizer instance.
            loss: name or function f(y_true, y_pred); a list or dict gives one per output.
            metrics: list of names or functions ('accuracy' picks the right accuracy for the
                loss), or a dict by output name.
            loss_weights: list or dict of scalars weighting each output's loss.
            check_numerics: a debugging mode: every op's results are checked, and the first NaN
                or inf stops fit/predict with a kiln.errors.NumericsError (a FloatingPointError)
                naming the op, its line in `model.ir(kind)` and its layer. Also on for every
                program when the environment sets KILN_CHECK_NUMERICS=1.
            device: 'cpu' or 'cuda' (default: kiln.get_device()); an unusable one is a
                ValueError saying why, and the model is left as it was.
        """
        device = check_device(device or get_device())
        check_placement(self.weights, device)  # a weight on another device: refused before anything changes
        names = self.output_names
        weight_modes = _per_output(sample_weight_mode, names, "sample_weight_mode", missing=None)
        for mode, out, name in zip(weight_modes, self.outputs, names):
            if mode not in (None, "temporal"):
                raise ValueError('"sample_weight_mode" should be None or "temporal". Found: %r' % (mode,))
            if mode == "temporal" and len(out.shape) < 3:
                raise ValueError('sample_weight_mode="temporal" needs outputs of 3 or more dimensions (a time '
                                 "axis); output %s has shape %s" % (name, tuple(out.shape)))
        self.optimizer = optimizers.get(optimizer)
        self._device = device
        self.loss = loss
        self.metrics = metrics  # as given: model.save writes them into training_config
        self.sample_weight_mode = sample_weight_mode
        self._sample_weight_modes = weight_modes
        self._check_numerics = bool(check_numerics)
        loss_fns = [losses_mod.get(l) for l in _per_output(loss, names, "loss")]
        weights = [float(w) for w in _per_output(loss_weights if loss_weights is not None else 1.0, names,
                                                 "loss_weights", missing=1.0)]
        self.loss_functions = loss_fns
        self.loss_weights = weights

        self.targets = []
        for out, fn, name in zip(self.outputs, loss_fns, names):
            shape = tuple(out.ir_shape)  # the output's own dims: a dynamic time axis stays the same dim
            if fn is losses_mod.sparse_categorical_crossentropy:
                shape = shape[:-1] + (1,)
            self.targets.append(K.placeholder(shape=shape, name=name + "_target"))

        # One sample-weight input per output (ones unless fit gets sample_weight/class_weight).
        # 'temporal': one per sample and timestep, over the output's own time dim.
        self.sample_weights = [K.placeholder(shape=tuple(out.ir_shape)[:2] if mode == "temporal" else (None,),
                                             name=name + "_sample_weights")
                               for out, mode, name in zip(self.outputs, weight_modes, names)]
        total = None
        per_output = []
        self._function_calls = {}  # id(fn) -> (fn, its calls): model.save traces custom ones (saving/traced.py)
        for target, out, fn, w, sw in zip(self.targets, self.outputs, loss_fns, weights, self.sample_weights):
            l = _weighted_mean(_masked(self._recorded(fn, target, out), getattr(out, "_keras_mask", None)), sw)
            per_output.append(l)
            term = l if w == 1.0 else l * w
            total = term if total is None else total + term
        for penalty in self.losses:  # regularizers
            total = total + penalty
        self.metrics_names = ["loss"]
        tensors = [total]
        if len(self.outputs) > 1:
            for name, l in zip(names, per_output):
                self.metrics_names.append(name + "_loss")
                tensors.append(l)

        metric_lists = collect_metrics(metrics, names)
        for i, (name, out, target, fn) in enumerate(zip(names, self.outputs, self.targets, loss_fns)):
            for m in metric_lists[i]:
                if m in ("accuracy", "acc"):
                    if out.shape[-1] == 1 or fn is losses_mod.binary_crossentropy:
                        mfn = metrics_mod.binary_accuracy
                    elif fn is losses_mod.sparse_categorical_crossentropy:
                        mfn = metrics_mod.sparse_categorical_accuracy
                    else:
                        mfn = metrics_mod.categorical_accuracy
                    mname = "acc"
                else:
                    mfn = metrics_mod.get(m)
                    mname = mfn.__name__
                result = self._recorded(mfn, target, out)
                # A metric may return {name: tensor}: several metrics (Keras 1.2), in its order.
                named = list(result.items()) if isinstance(result, dict) else [(mname, result)]
                for mname, t in named:
                    self.metrics_names.append(name + "_" + mname if len(names) > 1 else mname)
                    tensors.append(K.mean(t) if t.shape else t)
        self._metric_tensors = tensors
        self._compiled_trainable = list(self.trainable_weights)  # read at compile, as Keras does
        self._compiled_updates = list(self.updates)
        self._compiled_state_updates = list(self.state_updates)
        self._programs = {}

    def _recorded(self, fn, target, out):
        """fn(target, out), its call recorded so that model.save can trace fn again."""
        from ..saving import traced
        first = next(_ids)
        result = fn(target, out)
        traced.record(self._function_calls.setdefault(id(fn), (fn, {}))[1], first, [target, out], result)
        return result

    def _require_compiled(self):
        if self.optimizer is None:
            raise RuntimeError("You must compile a model before training/testing. "
                               "Use `model.compile(optimizer, loss)`.")

    @property
    def device(self):
        """Where this model's programs run: compile(device=), else kiln.get_device()."""
        return getattr(self, "_device", None) or get_device()

    def _program(self, kind):
        """The native program for 'train', 'test' or 'predict', made on first use."""
        replicated = kind == "train" and distributed.active()
        cached = lambda: kind in self._programs and (  # noqa: E731 (a train program of the other kind is made anew)
            kind != "train" or getattr(self, "_replicated", False) == replicated)
        if cached():
            return self._programs[kind]
        with _PROGRAMS_LOCK:  # two threads asking at once get one program
            if cached():
                return self._programs[kind]
            train = None
            if kind == "predict":
                text, variables = lower(self.outputs, self.inputs, training=False, name="predict",
                                trainable=getattr(self, "_compiled_trainable", None),
                                updates=getattr(self, "_compiled_state_updates", None) or self.state_updates)
            else:
                self._require_compiled()
                text, variables = lower(self._metric_tensors, self.inputs + self.targets + self.sample_weights,
                                training=(kind == "train"), name=kind, trainable=self._compiled_trainable,
                                updates=self._compiled_updates if kind == "train" else self._compiled_state_updates)
                if kind == "train":  # replicated: the gradients all-reduced over the job's ranks
                    train = self.optimizer.spec() + (self._constraint_spec(), replicated)
                    variables = variables + [self.optimizer.lr, self.optimizer.iterations]
                    runs = self._programs["train"].runs() if "train" in self._programs else None
            if distributed.active():  # rank 0's graph everywhere: the same seeds, the same collectives
                text = distributed.broadcast(text)
            program = compile_program(text, variables, self.device, train=train,
                                      check_numerics=getattr(self, "_check_numerics", False))
            if kind == "train":  # a loaded model's dropout masks continue where the saved one's stopped
                program.set_runs(self.__dict__.pop("_resume_runs", 0) if runs is None else runs)
                self._replicated = replicated
            self._programs[kind] = program
            return program

    # Keras 1.2's names: the programs made now, not on first use.
    def _make_train_function(self):
        self._program("train")

    def _make_test_function(self):
        self._program("test")

    def _make_predict_function(self):
        self._program("predict")

    def _constraint_spec(self):
        """{param name: apply_constraint attributes} for every trainable weight with a constraint,
        in this model and the models nested in it."""
        spec, todo, trainable = {}, list(self.layers), {id(v) for v in self._compiled_trainable}
        while todo:
            layer = todo.pop()
            todo.extend(getattr(layer, "layers", []))
            for v, c in getattr(layer, "constraints", {}).items():
                if id(v) in trainable:
                    spec[v.key] = c.ir_attrs()
        return spec

    def ir(self, kind="predict"):
        """The IR text of the 'train', 'test' or 'predict' program, after optimization."""
        if kind not in ("train", "test", "predict"):
            raise ValueError("ir(): kind must be 'train', 'test' or 'predict', got %r" % (kind,))
        return self._program(kind).text()

    # Data.
    def _inputs(self, x, check_batch_dim=True):
        return data_utils.standardize_input_data(x, self.input_names, self.internal_input_shapes,
                                                 check_batch_dim=check_batch_dim, exception_prefix="model input")

    def _standardize(self, x, y, sample_weight=None, class_weight=None):
        """Checked float32 arrays for the test/train programs: inputs, targets, sample weights."""
        self._require_compiled()
        xs = self._inputs(x)
        ys = data_utils.standardize_input_data(y, self.output_names, [tuple(t.shape) for t in self.targets],
                                               exception_prefix="model target")
        data_utils.check_array_lengths(xs, ys)
        data_utils.check_loss_and_target_compatibility(ys, self.loss_functions, self.internal_output_shapes)
        data_utils.check_not_empty(xs, self.input_names, "model input")
        data_utils.check_not_empty(ys, self.output_names, "model target")
        xs, ys = _as_f32(xs), _as_f32(ys)
        _check_finite(xs, self.input_names, "model input")
        _check_finite(ys, self.output_names, "model target")
        ws = _as_f32(self._sample_weights(ys, sample_weight, class_weight))
        _check_finite(ws, [n + "_sample_weights" for n in self.output_names], "sample weight")
        return xs + ys + ws

    def _sample_weights(self, ys, sample_weight, class_weight):
        names = self.output_names
        sws = _per_output(sample_weight, names, "sample_weight", missing=False) if sample_weight is not None \
            else [None] * len(names)
        if isinstance(class_weight, dict) and class_weight and all(k in names for k in class_weight):
            cws = _per_output(class_weight, names, "class_weight", missing=False)
        elif isinstance(class_weight, (list, tuple)):
            cws = _per_output(class_weight, names, "class_weight")
        else:
            cws = [class_weight] * len(names)
        return [data_utils.standardize_weights(y, None if sw is False else sw, cw, mode, output_name=name)
                for name, y, sw, cw, mode in zip(names, ys, sws, cws, self._sample_weight_modes)]

    def _results(self, values):
        values = [float(v) for v in values]
        return values[0] if len(values) == 1 else values

    # Training.
    def fit(self, x=None, y=None, batch_size=32, nb_epoch=None, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            epochs=None, distribute=False, **kwargs):
        """Trains for a number of epochs (Keras 1 `nb_epoch`, Keras 2 `epochs`; 10 when neither is
        given, as in Keras 1). Returns a History. `distribute=True` joins the MPI job this process
        runs in (kiln.distributed.init) and trains data-parallel, `batch_size` being the global
        batch; so does any fit after kiln.distributed.init()."""
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(sorted(kwargs)))
        if distribute:
            distributed.init()
        if distributed.active():
            if self.stateful:
                raise ValueError("a stateful model cannot train data-parallel: its states carry over from batch "
                                 "to batch, which the ranks' slices of a batch would break")
            distributed.broadcast_weights(self)  # every rank starts from rank 0's weights
            verbose = verbose if distributed.is_chief() else 0
        epochs = epochs if epochs is not None else (nb_epoch if nb_epoch is not None else 10)
        arrays = self._standardize(x, y, sample_weight, class_weight)
        val_arrays = None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                                 "(x_val, y_val, val_sample_weights) items, however it contains %d items"
                                 % len(validation_data))
            val_arrays = self._standardize(*validation_data)  # (x, y) or (x, y, sample_weight)
        elif validation_split and 0.0 < validation_split < 1.0:
            split_at = int(len(arrays[0]) * (1.0 - validation_split))
            val_arrays = [a[split_at:] for a in arrays]
            arrays = [a[:split_at] for a in arrays]
            if split_at == 0 or split_at == len(val_arrays[0]) + split_at:
                raise ValueError("validation_split=%s leaves no training or no validation samples"
                                 % validation_split)
        program = self._program("train")
        n = len(arrays[0])
        if self.stateful and n % batch_size:
            raise ValueError("In a stateful network, you should only pass inputs with a number of samples that can be "
                             "divided by the batch size. Found: %d samples. Batch size: %d." % (n, batch_size))

        self.history = History()
        cbs = [BaseLogger()] + ([ProgbarLogger()] if verbose else []) + list(callbacks or []) + [self.history]
        cbl = CallbackList(cbs)
        out_labels = _dedupe(self.metrics_names)
        cbl.set_model(self)
        cbl.set_params({"batch_size": batch_size, "epochs": epochs, "nb_epoch": epochs, "samples": n,
                        "nb_sample": n, "verbose": verbose, "do_validation": val_arrays is not None,
                        "metrics": out_labels + (["val_" + m for m in out_labels] if val_arrays is not None else [])})
        self.stop_training = False
        every = cbl.wants_batch_hooks()

        def on_batch_begin(batch, size):
            cbl.on_batch_begin(batch, {"batch": batch, "size": size})
            return bool(self.stop_training)

        def on_progress(batch, size, seen, values, means):
            if every:
                logs = dict(zip(out_labels, values))
                logs.update(batch=batch, size=size)
                cbl.on_batch_end(batch, logs)
            cbl.progress(seen, dict(zip(out_labels, means)))
            return bool(self.stop_training)

        cbl.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbl.on_epoch_begin(epoch)
            order = self._order(n, batch_size, shuffle)
            means, seen, stopped = program.run_epoch(arrays, batch_size, order, every, PROGRESS_INTERVAL_S,
                                                     on_batch_begin if every else None, on_progress,
                                                     distributed.native_capsule())
            self._epochs_trained = getattr(self, "_epochs_trained", 0) + 1
            logs = dict(zip(out_labels, means))
            if val_arrays is not None and not stopped:
                val = self._evaluate_arrays(val_arrays, batch_size)
                logs.update(("val_" + k, v) for k, v in zip(out_labels, val))
            cbl.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbl.on_train_end()
        return self.history

    def _order(self, n, batch_size, shuffle):
        """The rows of one epoch: a seed (the native loop shuffles all rows with it), or an
        explicit order. Epoch k of a model shuffles with a hash of (the model's shuffle seed, k):
        the seed is drawn from NumPy's generator at the first fit (np.random.seed makes runs
        repeatable), and both it and k are saved by model.save, so a loaded model goes on with
        the same orders as if training had not stopped (docs/persistence.md)."""
        if not shuffle:
            return np.arange(n, dtype=np.int64)
        if getattr(self, "_shuffle_seed", None) is None:  # data-parallel: rank 0's, one order for all
            self._shuffle_seed = distributed.broadcast(int(np.random.randint(0, 2**62)))
        rng = np.random.default_rng([self._shuffle_seed, getattr(self, "_epochs_trained", 0)])
        if shuffle == "batch":
            blocks = np.arange(0, n, batch_size)
            rng.shuffle(blocks)
            return np.concatenate([np.arange(b, min(b + batch_size, n)) for b in blocks]).astype(np.int64)
        return int(rng.integers(0, 2**62))

    def _evaluate_arrays(self, arrays, batch_size, progress=None):
        program = self._program("test")
        order = np.arange(len(arrays[0]), dtype=np.int64)
        means, _, _ = program.run_epoch(arrays, batch_size, order, False, PROGRESS_INTERVAL_S, None, progress,
                                        distributed.native_capsule())
        return means

    def evaluate(self, x, y, batch_size=32, verbose=1, sample_weight=None):
        """Loss (and metrics) on the data, averaged over samples: a scalar, or a list in
        `model.metrics_names` order."""
        arrays = self._standardize(x, y, sample_weight)
        progress = None
        if verbose and distributed.is_chief():
            from ..utils.generic_utils import Progbar
            bar = Progbar(target=len(arrays[0]))

            def progress(batch, size, seen, values, means):
                bar.update(seen, list(zip(self.metrics_names, means)))
                return False
        return self._results(self._evaluate_arrays(arrays, batch_size, progress))

    def _predict_inputs(self, x):
        """predict's inputs as the native loop reads them. One C-contiguous float32 array whose
        shape the model's single input takes is used as it is (a batch-1 predict_on_batch spent
        more time in the general checks than in the network); anything else goes through them."""
        shapes = self.internal_input_shapes
        if (isinstance(x, np.ndarray) and len(shapes) == 1 and x.dtype == np.float32 and x.flags.c_contiguous
                and x.ndim == len(shapes[0]) and x.ndim > 1
                and all(s is None or s == d for s, d in zip(shapes[0][1:], x.shape[1:]))):
            return [x]
        return _as_f32(self._inputs(x, check_batch_dim=False))

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for the inputs, batch by batch: an array, or a list for several outputs."""
        xs = self._predict_inputs(x)
        _check_finite(xs, self.input_names, "model input")
        if distributed.active():  # each rank its contiguous rows, then every rank all of them
            n = len(xs[0])
            lo, hi = distributed.shard(n)
            outs = self._program("predict").predict([a[lo:hi] for a in xs], batch_size)
            outs = [distributed.gather_rows(o, n) for o in outs]
        else:
            outs = self._program("predict").predict(xs, batch_size)
        return outs[0] if len(outs) == 1 else outs

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None):
        """One optimizer step on one batch; returns the loss (and metrics) before the step."""
        arrays = self._standardize(x, y, sample_weight, class_weight)
        n = len(arrays[0])
        means, _, _ = self._program("train").run_epoch(arrays, n, np.arange(n, dtype=np.int64), False, PROGRESS_INTERVAL_S,
                                                       None, None, distributed.native_capsule())
        return self._results(means)

    def fit_generator(self, generator, *args, **kwargs):
        """Trains on batches from a generator (engine/generators.py: Keras 1 and 2 arguments)."""
        from .generators import fit_generator
        return fit_generator(self, generator, *args, **kwargs)

    def evaluate_generator(self, generator, *args, **kwargs):
        from .generators import evaluate_generator
        return evaluate_generator(self, generator, *args, **kwargs)

    def predict_generator(self, generator, *args, **kwargs):
        from .generators import predict_generator
        return predict_generator(self, generator, *args, **kwargs)

    def test_on_batch(self, x, y, sample_weight=None):
        arrays = self._standardize(x, y, sample_weight)
        return self._results(self._evaluate_arrays(arrays, len(arrays[0])))

    def predict_on_batch(self, x):
        xs = self._predict_inputs(x)
        _check_finite(xs, self.input_names, "model input")
        outs = self._program("predict").run(xs)
        return outs[0] if len(outs) == 1 else outs

    def summary(self, line_length=100, positions=None):
        print_summary(self, line_length, positions)
