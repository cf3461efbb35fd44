"""REINFORCE controller, after Zoph & Le (2017).

A small Keras recurrent policy emits one decision per step over the space's active decisions
(floats and wide integer ranges are binned); the previous choice is the next step's input.
After each finished trial the policy takes one policy-gradient step on
``-(reward - baseline) * log p(decisions) - entropy_weight * entropy`` with a moving-average
baseline, rewards scaled by their running spread; with constraints (as MnasNet, Tan et al.
2019) the reward shrinks by the relative amount a trial breaks them. The weights are rebuilt from the finished
trials, so a reloaded or replayed search continues with the same controller.
"""

import keras
import numpy as np
import tensorflow as tf

from autoarch import space as space_ops
from autoarch.strategies.base import StrategyOracle
from autoarch.strategies.options import check_values


class _Policy:
    """Embedding -> LSTMCell -> one softmax head per decision, all seeded.

    Training is Keras (a compiled policy-gradient step); sampling runs the same cell in numpy
    on the current weights, since stepping Keras layers eagerly costs milliseconds a step.
    Inactive decisions are still stepped, with the skip token 0 as input and no loss, so every
    sequence has the same length and the step compiles once.
    """

    def __init__(self, sizes, units, embedding_dim, learning_rate, entropy_weight, seed):
        init = keras.initializers
        self.sizes = sizes
        self.offsets = np.concatenate([[1], 1 + np.cumsum(sizes)[:-1]]).astype(int)
        self.embedding = keras.layers.Embedding(
            1 + int(sum(sizes)), embedding_dim,
            embeddings_initializer=init.RandomUniform(-0.1, 0.1, seed=seed))
        self.cell = keras.layers.LSTMCell(
            units, kernel_initializer=init.GlorotUniform(seed=seed + 1),
            recurrent_initializer=init.Orthogonal(seed=seed + 2))
        self.heads = [keras.layers.Dense(n, kernel_initializer=init.GlorotUniform(seed=seed + 3 + i))
                      for i, n in enumerate(sizes)]
        self.embedding.build((None,))
        self.cell.build((None, embedding_dim))
        for head in self.heads:
            head.build((None, units))
        self.units = units
        self.entropy_weight = entropy_weight
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.weights = [w for layer in (self.embedding, self.cell, *self.heads)
                        for w in layer.trainable_weights]
        # its slots made here, not in the step's first trace (which would trace it again)
        self.optimizer.build(self.weights)
        self._step = tf.function(self._train_step, reduce_retracing=True)
        self._numpy = None

    def _train_step(self, tokens, actions, mask, advantage):
        with tf.GradientTape() as tape:
            zeros = tf.zeros((1, self.units))
            state, log_prob, entropy = [zeros, zeros], 0.0, 0.0
            for i in range(len(self.sizes)):
                out, state = self.cell(self.embedding(tokens[i:i + 1]), state)
                log_probs = tf.nn.log_softmax(self.heads[i](out)[0])
                log_prob += mask[i] * log_probs[actions[i]]
                entropy -= mask[i] * tf.reduce_sum(tf.exp(log_probs) * log_probs)
            loss = -advantage * log_prob - self.entropy_weight * entropy
        grads = tape.gradient(loss, self.weights)
        self.optimizer.apply_gradients(zip(grads, self.weights))

    def learn(self, actions, mask, advantage):
        tokens = [0] + [int(self.offsets[i] + a) if m else 0
                        for i, (a, m) in enumerate(zip(actions[:-1], mask[:-1]))]
        self._step(np.asarray(tokens, "int32"), np.asarray(actions, "int32"),
                   np.asarray(mask, "float32"), np.float32(advantage))
        self._numpy = None

    def _weights_numpy(self):
        if self._numpy is None:
            kernel, recurrent, bias = (np.asarray(w) for w in self.cell.trainable_weights)
            heads = [tuple(np.asarray(w) for w in h.trainable_weights) for h in self.heads]
            self._numpy = (np.asarray(self.embedding.trainable_weights[0]), kernel, recurrent,
                           bias, heads)
        return self._numpy

    def sample(self, n_steps, choose):
        """Step the policy; ``choose(i, probs)`` returns the action or ``None`` (inactive)."""
        table, kernel, recurrent, bias, heads = self._weights_numpy()
        h = c = np.zeros(self.units, dtype=np.float32)
        token = 0
        sigmoid = lambda v: 0.5 * (1.0 + np.tanh(0.5 * v))  # noqa: E731 - overflow-free
        for i in range(n_steps):
            z = table[token] @ kernel + h @ recurrent + bias
            gi, gf, gc, go = np.split(z, 4)  # Keras's gate order: input, forget, cell, output
            c = sigmoid(gf) * c + sigmoid(gi) * np.tanh(gc)
            h = sigmoid(go) * np.tanh(c)
            logits = (h @ heads[i][0] + heads[i][1]).astype(float)
            probs = np.exp(logits - logits.max())
            action = choose(i, probs / probs.sum())
            token = 0 if action is None else int(self.offsets[i] + action)


class ReinforceController(StrategyOracle):
    name = "reinforce"

    def __init__(self, learning_rate=0.1, entropy_weight=0.01, baseline_decay=0.5, units=32,
                 embedding_dim=16, max_options=16, **kwargs):
        super().__init__(**kwargs)
        check_values(self.name, {"learning_rate": learning_rate, "baseline_decay": baseline_decay,
                                 "units": units, "embedding_dim": embedding_dim,
                                 "max_options": max_options})
        self.learning_rate = learning_rate
        self.entropy_weight = entropy_weight
        self.baseline_decay = baseline_decay
        self.units = units
        self.embedding_dim = embedding_dim
        self.max_options = max_options
        self._policy = None
        self._signature = None

    # -- controller state, rebuilt from the finished trials -------------------------------
    def _sync(self):
        params = space_ops.decisions(self.hyperparameters)
        options = [space_ops.discrete_options(p, self.max_options) for p in params]
        signature = [(p.name, len(o)) for p, o in zip(params, options)]
        if signature != self._signature:
            self._params, self._options, self._signature = params, options, signature
            self._policy = _Policy([len(o) for o in options], self.units, self.embedding_dim,
                                   self.learning_rate, self.entropy_weight,
                                   int(self.seed) % (2**31 - 64))
            self._learned, self._rewards, self._baseline = 0, [], None
        finished = self.finished_trials()
        for trial in finished[self._learned:]:
            self._learn(trial)
        self._learned = len(finished)

    def _learn(self, trial):
        reward = self.oriented(trial.score)
        if self.constraints:  # MnasNet-style: a broken constraint scales the reward down
            reward -= abs(reward) * min(1.0, self.outcomes[trial.trial_id][1])
        self._rewards.append(reward)
        if self._baseline is None:
            self._baseline = reward
        spread = float(np.std(self._rewards)) if len(self._rewards) > 1 else 0.0
        advantage = (reward - self._baseline) / (spread + 1e-8) if spread > 0 else 0.0
        self._baseline = self.baseline_decay * self._baseline + (1 - self.baseline_decay) * reward
        actions, mask = self._actions(trial.hyperparameters.values)
        if any(mask) and advantage != 0.0:
            self._policy.learn(actions, mask, float(advantage))

    def _actions(self, values):
        """Option index per decision of a recorded point, and which decisions were active."""
        actions, mask = [], []
        for i, param in enumerate(self._params):
            active = param.name in values and space_ops.is_active(param, values)
            actions.append(self._nearest(i, values[param.name]) if active else 0)
            mask.append(1.0 if active else 0.0)
        return actions, mask

    def _nearest(self, i, value):
        options, param = self._options[i], self._params[i]
        if value in options:
            return options.index(value)
        prob = param.value_to_prob(value)
        return int(np.argmin([abs(param.value_to_prob(o) - prob) for o in options]))

    # -- suggestions --------------------------------------------------------------------
    def suggest(self, rng):
        self._sync()
        values = space_ops.active_values(self.hyperparameters, {})  # fixed ones and defaults

        def choose(i, probs):
            param = self._params[i]
            if not space_ops.is_active(param, values):  # a parent chose otherwise
                values.pop(param.name, None)
                return None
            action = int(rng.choice(len(probs), p=probs))
            values[param.name] = self._options[i][action]
            return action

        self._policy.sample(len(self._params), choose)
        return values

    def set_state(self, state):
        super().set_state(state)
        self._signature = None  # the controller is rebuilt from the reloaded trials
