"""Projections: conversion per journey, arm (holdout/treated), split branch and path (docs/projections.md)."""
