// placeholder: kernels of this family go here
