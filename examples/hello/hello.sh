#!/bin/sh
echo "Hello from a koji-adjutant container build."
