"""Gradient-based architecture search (DARTS, GDAS): network and architecture weights trained
in alternation, as a Keras model whose ``train_step`` takes a training batch and a
validation batch.

First-order DARTS (Liu et al., 2019): per step, the architecture weights (each
:class:`~autoarch.blocks.layers.MixedOp`'s ``logits``) take one Adam step on the validation
batch's loss, then the network weights one step of the model's own optimizer on the
training batch's loss. Positions of one choice (a cell stacked several times) share their
choice's weights: their gradients are summed and every position gets the same update. GDAS
(Dong & Yang, 2019) is the same loop over Gumbel-softmax ``MixedOp``s, with the temperature
annealed per epoch (:class:`Temperature`). With sample weights, both losses are the
batches' weighted ones. Because ``fit`` runs it, Keras callbacks
(deadline, checkpoints, journal notes) and ``tf.distribute`` work as for any trial.
"""

import keras
import tensorflow as tf

from autoarch.engine import data as data_ops
from autoarch.engine.runtime import build_training_variables


class Bilevel(keras.Model):
    """``supernet``'s model trained by alternating updates; ``architecture_updates`` (a
    variable) turns the architecture step on (off during a warm-up)."""

    def __init__(self, supernet, architecture_optimizer, **kwargs):
        super().__init__(**kwargs)
        self.net = supernet.model
        self.groups = [[layer.logits for layer in layers]
                       for layers in supernet.switches.values()]
        tied = {id(v) for group in self.groups for v in group}
        self.network_variables = [v for v in self.net.trainable_variables if id(v) not in tied]
        self.architecture_optimizer = architecture_optimizer
        # built here: an optimizer must not make its variables inside the step's condition
        architecture_optimizer.build([v for group in self.groups for v in group])
        self.architecture_updates = tf.Variable(False, trainable=False)
        self.training_loss = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [*super().metrics, self.training_loss]  # Keras resets them every epoch

    def call(self, inputs, training=None):
        return self.net(inputs, training=training)

    def _architecture_step(self, x_val, y_val, w_val):
        with tf.GradientTape() as tape:
            val_loss, _ = self._loss(x_val, y_val, w_val)
        grads = tape.gradient(val_loss, [v for g in self.groups for v in g])
        shared, at = [], 0
        for group in self.groups:  # a choice's positions move together
            total = tf.add_n(grads[at:at + len(group)])
            shared += [(total, v) for v in group]
            at += len(group)
        self.architecture_optimizer.apply_gradients(shared)
        return val_loss

    def _loss(self, x, y, sample_weight=None):
        y_pred = self(x, training=True)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight), y_pred

    def train_step(self, data):
        (x, y, w), (x_val, y_val, w_val) = (keras.utils.unpack_x_y_sample_weight(part)
                                            for part in data)
        tf.cond(self.architecture_updates,
                lambda: self._architecture_step(x_val, y_val, w_val), lambda: tf.constant(0.0))
        with tf.GradientTape() as tape:
            loss, y_pred = self._loss(x, y, w)
        grads = tape.gradient(loss, self.network_variables)
        self.optimizer.apply_gradients(zip(grads, self.network_variables))
        self.training_loss.update_state(loss)
        return {**self.compute_metrics(x, y, y_pred, sample_weight=w),
                "loss": self.training_loss.result()}


class Temperature(keras.callbacks.Callback):
    """GDAS's temperature, annealed linearly from ``start`` to ``end`` over ``epochs``."""

    def __init__(self, layers, start, end, epochs):
        super().__init__()
        self.layers, self.start, self.end, self.epochs = layers, start, end, epochs

    def on_epoch_begin(self, epoch, logs=None):
        share = epoch / max(1, self.epochs - 1)
        for layer in self.layers:
            layer.temperature.assign(self.start + (self.end - self.start) * share)


class Warmup(keras.callbacks.Callback):
    """Architecture updates only from epoch ``epochs`` on: the operations learn first."""

    def __init__(self, model, epochs):
        super().__init__()
        self.bilevel, self.epochs = model, epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.bilevel.architecture_updates.assign(epoch >= self.epochs)


def schedule(model, mixed, strategy, epochs):
    """A DARTS/GDAS ``strategy``'s schedule as callbacks for ``model``: its warm-up and,
    for GDAS, the temperature of the ``mixed`` operations annealed over ``epochs``."""
    callbacks = [Warmup(model, strategy.warmup_epochs)]
    if strategy.sampling == "gumbel":
        callbacks.append(Temperature(mixed, strategy.temperature_start,
                                     strategy.temperature_end, epochs))
    return callbacks


def bilevel_model(supernet, optimizer, architecture_learning_rate):
    """A compiled :class:`Bilevel` for ``supernet``: its loss and metrics, ``optimizer`` for
    the network weights, Adam(beta_1=0.5) for the architecture weights, as in DARTS."""
    net = supernet.model
    model = Bilevel(supernet, keras.optimizers.Adam(architecture_learning_rate, beta_1=0.5,
                                                     beta_2=0.999))
    model.compile(optimizer=optimizer, loss=net.loss, **_metric_names(net))
    return model


def _metric_names(net):
    """The supernet's metrics by name, weighted (``weighted_metrics``) or not."""
    config = net.get_compile_config() or {}
    return {key: [m for m in config.get(key) or [] if isinstance(m, str)]
            for key in ("metrics", "weighted_metrics")}


def paired_batches(train, val, batch_size, seed, sample_weight=None):
    """``((x, y), (x_val, y_val))`` pairs: each training batch with a validation batch (the
    validation rows cycle, reshuffled); with ``sample_weight`` (the training and validation
    rows' weights) ``((x, y, w), (x_val, y_val, w_val))``."""
    weights = sample_weight or (None, None)
    batches = data_ops.make_dataset(*train, batch_size, shuffle_seed=seed,
                                    sample_weight=weights[0])
    val_batches = data_ops.make_dataset(*val, batch_size, shuffle_seed=seed + 1,
                                        sample_weight=weights[1]).repeat()
    return tf.data.Dataset.zip((batches, val_batches))


def train_bilevel(model, train, val, epochs, batch_size, seed, initial_epoch=0,
                  callbacks=(), verbose=0, sample_weight=None):
    """Fit ``model`` (a :class:`Bilevel`) on paired batches (:func:`paired_batches`);
    returns the history."""
    keras.utils.set_random_seed(seed + initial_epoch)
    build_training_variables(model, *train, variables=model.network_variables)
    data = paired_batches(train, val, batch_size, seed, sample_weight)
    return model.fit(data, epochs=epochs, initial_epoch=initial_epoch, verbose=verbose,
                     callbacks=list(callbacks), shuffle=False).history
