"""Keras 1.2's `keras.wrappers`: scikit-learn estimators around a model-building function."""
