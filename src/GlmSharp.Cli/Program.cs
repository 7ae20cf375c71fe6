Console.WriteLine("glm");
